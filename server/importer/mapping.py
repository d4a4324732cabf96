"""MAPPING.yaml: how one flat export (a card statement, an expense-report export) becomes a company.

The document is validated by `Mapping`; every problem is on line 0 of the mapping file with the path of
the bad value as its column, like approval_policy.json: `bank.yaml:0: amount.debits: ...`. Wherever a
column is named, a string is the column's header; `{column: ..., default: ...}` also gives the value of
its empty cells. docs/data-format.md ("Importing a flat export") describes every key.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from server.importer import fields
from server.importer.fx import rate
from server.importer.json_file import json_path
from server.importer.problems import WHOLE, Problems
from server.importer.spend import DIMENSION

Debits = Literal["positive", "negative"]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(Spec):
    """A column of the export; `default` stands in for its empty cells. A plain string is the column."""

    column: str = Field(min_length=1)
    default: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"column": value} if isinstance(value, str) else value


class CompanySpec(Spec):
    """The company a new import creates (`--company` gives or overrides the slug)."""

    slug: str | None = None
    name: str | None = None
    currency: str | None = None
    country: str | None = None


class IdSpec(Spec):
    """The expense's id: `prefix` + the cell of `column`; without a column, a hash of the whole row."""

    column: str | None = None
    prefix: str = ""


class DateSpec(Column):
    format: str = "%Y-%m-%d"  # strptime's

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if "%" not in value:
            raise ValueError(f"{value!r} is not a date format (strptime's, e.g. '%d/%m/%Y')")
        return value


class AmountSpec(Column):
    decimal_comma: bool = False  # 1.234,50: the comma is the decimal mark, dots and spaces group digits
    # How the export writes a purchase: positive (refunds negative), or negative (a bank's debits).
    debits: Debits = "positive"


class CurrencySpec(Spec):
    column: str | None = None
    default: str | None = None  # empty cells, or every row without a column; default: the company's


class TeamSpec(Column):
    fold_case: bool = False  # `SALES` and `Sales` are one team (the first spelling met names it)
    parent_separator: str | None = None  # "Finance-Payroll": team "Finance-Payroll" under team "Finance"


class EmployeeSpec(Spec):
    """The card holder, when the export names one by e-mail; rows with an empty cell have no employee."""

    email: str
    name: str | None = None


class CategorySpec(Column):
    """The labels to learn from: the categories of the rows that have one (the others are the backlog)."""

    file: str | None = None  # a categories.csv (import format) the labels must name, by code or name
    source: Literal["human", "rule", "model", "llm"] = "human"


class MccSpec(Column):
    unknown: Literal["refuse", "ignore"] = "refuse"  # a code ISO 18245 does not know: a problem, or none


class FxSpec(Spec):
    """Units of company currency for one unit of each other currency, e.g. {USD: "0.79"}."""

    rates: dict[str, str] = Field(default_factory=dict)
    without_rate: Literal["refuse", "skip"] = "refuse"  # rows in a currency with no rate


class Mapping(Spec):
    company: CompanySpec = CompanySpec()
    delimiter: str = Field(",", min_length=1, max_length=1)
    id: IdSpec = IdSpec()
    date: DateSpec
    descriptor: Column
    amount: AmountSpec
    amount_company: Column | None = None  # the settled amount in company currency, when the export has it
    currency: CurrencySpec = CurrencySpec()
    merchant: Column | None = None
    mcc: MccSpec | None = None
    memo: Column | None = None
    team: TeamSpec
    employee: EmployeeSpec | None = None
    category: CategorySpec | None = None
    cost_center: Column | None = None
    project: Column | None = None
    card: Column | None = None  # a masked card reference
    receipt_id: Column | None = None
    country: Column | None = None  # ISO 3166-1 alpha-2: where it was spent
    dimensions: dict[str, Column] = Field(default_factory=dict)
    status: Literal["pending", "approved", "rejected", "reimbursed"] = "pending"
    payment_type: Literal["card", "reimbursement", "invoice"] = "card"
    fx: FxSpec = FxSpec()

    def columns(self) -> dict[str, str]:
        """Every column of the export the mapping reads, by the path that names it."""
        found: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Column):
                found[f"{name}.column"] = value.column
        for name, column in self.dimensions.items():
            found[f"dimensions.{name}"] = column.column
        for path, value in (
            ("id.column", self.id.column),
            ("currency.column", self.currency.column),
            ("employee.email", self.employee and self.employee.email),
            ("employee.name", self.employee and self.employee.name),
        ):
            if value:
                found[path] = value
        return found


def _all_keys() -> list[str]:
    keys: set[str] = set()
    for model in Spec.__subclasses__() + Column.__subclasses__():
        keys.update(model.model_fields)
    return sorted(keys)


def read_mapping(path: Path, problems: Problems) -> Mapping | None:
    """The mapping at `path`, checked; None (and its problems recorded) when it cannot be used."""
    file = path.name
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        mapping = Mapping.model_validate(document)
    except OSError as error:
        problems.add(file, 0, WHOLE, f"cannot be read ({error.strerror or error})")
        return None
    except UnicodeDecodeError as error:
        problems.add(file, 0, WHOLE, f"not UTF-8 text ({error.reason} at byte {error.start})")
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problems.add(file, 0, WHOLE, f"not valid YAML: {getattr(error, 'problem', None) or error}{where}")
        return None
    except ValidationError as error:
        for detail in error.errors():
            problems.add(file, 0, json_path(detail["loc"]), _message(detail))
        return None
    _check_values(file, mapping, problems)
    return mapping


def _message(detail: Any) -> str:
    if detail["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(detail["loc"][-1]), _all_keys(), n=1)
        return f"unknown key; did you mean {close[0]!r}?" if close else "unknown key"
    if detail["type"] == "missing":
        return "required"
    if detail["type"] == "model_type":
        return "must be a mapping of keys to values (or, for a column, its name)"
    return str(detail["msg"]).removeprefix("Value error, ")


def _check_values(file: str, mapping: Mapping, problems: Problems) -> None:
    """What the model's types cannot say: codes, rates and names the import format would refuse."""
    checks: list[tuple[str, str | None, Any]] = [
        ("company.slug", mapping.company.slug, fields.slug),
        ("company.name", mapping.company.name, fields.text(200)),
        ("company.currency", mapping.company.currency, fields.currency),
        ("company.country", mapping.company.country, fields.country),
        ("currency.default", mapping.currency.default, fields.currency),
        ("id.prefix", mapping.id.prefix or None, fields.text(32)),
    ]
    checks += [(f"fx.rates.{code}", code, fields.currency) for code in mapping.fx.rates]
    checks += [(f"fx.rates.{code}", value, rate) for code, value in mapping.fx.rates.items()]
    for path, value, parse in checks:
        try:
            if value is not None:
                parse(value)
        except ValueError as error:
            problems.add(file, 0, path, str(error))
    for name in mapping.dimensions:
        if (problem := DIMENSION.problem(name)) is not None:
            problems.add(file, 0, f"dimensions.{name}", problem.replace("'dim_'", "the dimension"))
    try:
        dt.datetime.strptime(dt.date(2026, 1, 31).strftime(mapping.date.format), mapping.date.format)
    except ValueError:
        problems.add(file, 0, "date.format", f"{mapping.date.format!r} cannot read back a date it writes")


def rates(mapping: Mapping) -> dict[str, Decimal]:
    """The mapping's exchange rates by upper-case currency code (checked by `read_mapping`)."""
    return {code.upper(): rate(value) for code, value in mapping.fx.rates.items()}


# What groups digits (1 234,50; 1'234.50), besides the dots or commas the decimal mark leaves.
_GROUPING = re.compile(r"[\s'\u00a0\u202f]")
_GROUPED = {
    ",": re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?"),
    ".": re.compile(r"-?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?"),
}


def amount_text(raw: str, spec: AmountSpec) -> str:
    """The amount as expenses.csv writes it: decimal point, no grouping, purchases positive. A text that
    is no amount stays one, for the importer to refuse; `ValueError` when its separators contradict the
    mapping's decimal mark (`23,40` read with a decimal point would be 2340: refused, never guessed)."""
    text = _GROUPING.sub("", raw.strip().removeprefix("+"))
    if not text:
        return ""
    group, mark = (".", ",") if spec.decimal_comma else (",", ".")
    if group in text:
        if not _GROUPED[group].fullmatch(text):
            written = "a decimal comma (1.234,50)" if spec.decimal_comma else "a decimal point (1,234.50)"
            other = "false" if spec.decimal_comma else "true"
            raise ValueError(
                f"{raw!r} is not an amount written with {written}; is amount.decimal_comma: {other}?"
            )
        text = text.replace(group, "")
    text = text.replace(mark, ".")
    if spec.debits == "negative":
        text = text[1:] if text.startswith("-") else f"-{text}"
    return text


def category_code(label: str, taken: set[str]) -> str:
    """A category code from a label: upper case, other characters as dashes; a suffix if it is taken."""
    base = re.sub(r"[^A-Z0-9]+", "-", label.upper()).strip("-")[:60] or "UNLABELLED"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code
