"""One flat export read through a mapping (server/importer/mapping.py) into the `Dataset` a folder gives.

Each row of the export is rewritten into an expenses.csv row (ISO date, decimal point, the company's
sign convention, a team, a category code) and parsed by the same `parse_expense` as a folder's, so every
check is the importer's own; a problem names the export's file, line and column (`Net Amount`, not
`amount`). Teams, categories and employees are created as the rows name them; no budget, no policy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from server.importer import fields
from server.importer.checks import Known
from server.importer.dataset import Dataset, Reading
from server.importer.history import History
from server.importer.mapping import Column, Mapping, amount_text, category_code, rates
from server.importer.org import CategoryRow, CompanyCells, CompanyRow, EmployeeRow, TeamRow, read_categories
from server.importer.problems import WHOLE, Problems
from server.importer.rows import Columns, Row, read_csv
from server.importer.spend import Expenses, parse_expense
from server.kit.money import currency_exponent

# The expenses.csv columns a flat row is rewritten into (free dimensions follow as dim_<name>).
TARGET = (
    "id", "date", "employee_email", "team", "descriptor", "merchant", "mcc", "amount", "currency",
    "amount_company", "memo", "status", "payment_type", "category_code", "category_source", "cost_center",
    "project", "card", "receipt_id", "country",
)  # fmt: skip
HASH_LENGTH = 20  # hex digits of a row's hash: an id for exports without one


@dataclass(frozen=True)
class Existing:
    """What the company already holds, when appending: its currency, and the names new rows reuse."""

    slug: str
    currency: str
    teams: list[str]
    categories: dict[str, str]  # name -> code
    codes: set[str]


@dataclass
class FlatReading:
    reading: Reading
    skipped: Counter[str] = field(default_factory=Counter)  # rows left out, by currency without a rate


class MappedRow(Row):
    """An export row in expenses.csv's shape; its problems name the export's own column."""

    __slots__ = ("_reported", "_sources")

    def __init__(self, file: str, line: int, cells: list[str], index: dict[str, int], problems: Problems,
                 sources: dict[str, str], reported: set[str]) -> None:  # fmt: skip
        super().__init__(file, line, cells, index, problems)
        self._sources, self._reported = sources, reported

    def problem(self, column: str, message: str) -> None:
        """Reported once per column: a date the mapping's format could not read is not also 'required'."""
        if column in self._reported:
            self.ok = False
            return
        super().problem(self._sources.get(column, column), message)


def read_export(
    export: Path,
    mapping: Mapping,
    mapping_file: Path,
    problems: Problems,
    *,
    slug: str | None,
    existing: Existing | None = None,
    strict: bool = False,
) -> FlatReading:
    """Read and check `export` through `mapping` (read from `mapping_file`: `read_mapping`); the dataset
    is None when there are problems."""
    company = _company(mapping, mapping_file.name, slug, existing, problems)
    categories = _given_categories(mapping, mapping_file, problems)
    if company is None or problems:
        return FlatReading(Reading(CompanyCells(slug=company.slug if company else None), None))
    reader = _Reader(mapping, export.name, company.currency, existing, categories, strict, problems)
    rows = read_csv(export.parent, export.name, reader.columns(), problems, delimiter=mapping.delimiter)
    if rows is None:
        return FlatReading(Reading(CompanyCells(0, company.slug, company.currency), None))
    for row in rows:
        reader.read(row)
    reader.report_foreign()
    cells = CompanyCells(0, company.slug, company.currency, company)
    if problems or not rows.complete:
        return FlatReading(Reading(cells, None), reader.skipped)
    return FlatReading(Reading(cells, reader.dataset(company)), reader.skipped)


def _company(
    mapping: Mapping, file: str, slug: str | None, existing: Existing | None, problems: Problems
) -> CompanyRow | None:
    """The company a new import creates (an append's is the existing one). The mapping's own values
    were checked by `read_mapping`; `--company` is checked here."""
    if existing is not None:
        return CompanyRow(0, existing.slug, existing.slug, existing.currency)
    given = mapping.company
    slug = slug or given.slug
    if not slug:
        problems.add(file, 0, "company.slug", "required for a new company (or pass --company SLUG)")
    if not given.currency:
        problems.add(file, 0, "company.currency", "required for a new company")
    if slug and fields.quietly(fields.slug, slug) is None:
        problems.add("--company", 0, WHOLE, f"{slug!r} is not a valid slug (2 to 64 of a-z, 0-9 and '-')")
    currency = fields.quietly(fields.currency, given.currency or "")
    if not slug or currency is None or problems:
        return None
    country = fields.quietly(fields.country, given.country or "")
    return CompanyRow(0, slug, given.name or slug, currency, country=country)


def _given_categories(mapping: Mapping, mapping_file: Path, problems: Problems) -> list[CategoryRow] | None:
    """A categories.csv the labels must name; None when the labels create the categories."""
    if mapping.category is None or mapping.category.file is None:
        return None
    path = mapping_file.parent / mapping.category.file
    parsed = read_categories(path.parent, problems, file=path.name)
    return None if parsed is None else parsed.rows


class _Reader:
    """Rewrites each export row into expenses.csv's shape and collects what the rows name."""

    def __init__(
        self,
        mapping: Mapping,
        file: str,
        currency: str,
        existing: Existing | None,
        categories: list[CategoryRow] | None,
        strict: bool,
        problems: Problems,
    ) -> None:
        self.mapping, self.file, self.currency, self.strict = mapping, file, currency, strict
        self.problems, self.rates = problems, rates(mapping)
        self.known_teams = set(existing.teams) if existing else set()
        self.team_names = {name.casefold(): name for name in existing.teams} if existing else {}
        self.teams: dict[str, str | None] = {}  # new team -> parent, parents first
        self.employees: dict[str, EmployeeRow] = {}
        self.given = categories
        self.codes = dict(existing.categories) if existing else {}  # label -> code
        if categories is not None:
            self.codes = {c.code: c.code for c in categories} | {c.name: c.code for c in categories}
        self.taken = set(existing.codes) if existing else set()
        self.categories: dict[str, CategoryRow] = {}
        self.dimensions = {name: f"dim_{name}" for name in sorted(mapping.dimensions)}
        self.index = {column: i for i, column in enumerate([*TARGET, *self.dimensions.values()])}
        self.sources = _sources(mapping, self.dimensions)
        self.occurrences: Counter[str] = Counter()
        self.reported: set[str] = set()  # the current row's columns with a problem already
        self.foreign: Counter[str] = Counter()
        self.first_foreign: int | None = None
        self.skipped: Counter[str] = Counter()
        self.expenses = Expenses(dimensions=list(self.dimensions))
        self.known = Known(currency, None, None, None)

    def columns(self) -> Columns:
        return Columns(tuple(dict.fromkeys(self.mapping.columns().values())), others_ignored=True)

    def read(self, source: Row) -> None:
        self.reported = set()
        cells = self._cells(source)
        if cells is None:
            return
        row = MappedRow(self.file, source.line, cells, self.index, self.problems, self.sources, self.reported)
        row.ok = source.ok
        self.expenses.add(row, parse_expense(row, self.known, self.dimensions))

    def _cells(self, row: Row) -> list[str] | None:
        """The row as expenses.csv cells; None when it is left out (a currency without a rate)."""
        m = self.mapping
        given = row.raw(m.currency.column) if m.currency.column else ""
        currency = (given or m.currency.default or self.currency).upper()
        amount = self._amount(row, m.amount, "amount")
        settled = self._amount(row, m.amount_company, "amount_company") if m.amount_company else ""
        if currency != self.currency and not settled:
            converted = self._converted(row, amount, currency)
            if converted is None:
                return None
            settled = converted
        team = self._team(row)
        values = {
            "id": self._id(row),
            "date": self._date(row),
            "employee_email": self._employee(row, team),
            "team": team,
            "descriptor": _cell(row, m.descriptor),
            "merchant": _cell(row, m.merchant),
            "mcc": self._mcc(row),
            "amount": amount,
            "currency": currency,
            "amount_company": settled,
            "memo": _cell(row, m.memo),
            "status": m.status,
            "payment_type": m.payment_type,
            "category_code": self._category(row),
            "cost_center": _cell(row, m.cost_center),
            "project": _cell(row, m.project),
            "card": _cell(row, m.card),
            "receipt_id": _cell(row, m.receipt_id),
            "country": _cell(row, m.country),
        }
        values["category_source"] = m.category.source if m.category and values["category_code"] else ""
        dims = [_cell(row, m.dimensions[name]) for name in self.dimensions]
        return [values[column] for column in TARGET] + dims

    def _amount(self, row: Row, spec: Column, column: str) -> str:
        """An amount column in the import format's terms (the mapping's decimal mark and sign)."""
        try:
            return amount_text(_cell(row, spec), self.mapping.amount)
        except ValueError as error:
            row.problem(spec.column, str(error))
            self.reported.add(column)
            return ""

    def _id(self, row: Row) -> str:
        spec = self.mapping.id
        if spec.column:
            value = row.raw(spec.column)
            return f"{spec.prefix}{value}" if value else ""
        # No id in the export: the row's hash, and its count among identical rows of this file, so that
        # two identical purchases on one statement stay two expenses and a statement imported again
        # gives the same ids.
        digest = hashlib.sha256("\x1f".join(row.cells()).encode()).hexdigest()[:HASH_LENGTH]
        self.occurrences[digest] += 1
        count = self.occurrences[digest]
        return f"{spec.prefix}{digest}" + (f"-{count}" if count > 1 else "")

    def _date(self, row: Row) -> str:
        spec = self.mapping.date
        raw = row.raw(spec.column) or (spec.default or "")
        if not raw or spec.format == "%Y-%m-%d":
            return raw  # parsed (and refused) as an ISO date by parse_expense
        try:
            return dt.datetime.strptime(raw, spec.format).date().isoformat()
        except ValueError:
            row.problem(spec.column, f"{raw!r} is not a date in the format {spec.format!r}")
            self.reported.add("date")
            return ""

    def _team(self, row: Row) -> str:
        spec = self.mapping.team
        name = " ".join(_cell(row, spec).split())[:200]
        if not name:
            row.problem(spec.column, "required (or give team.default in the mapping)")
            self.reported.add("team")
            return ""
        if spec.fold_case:
            name = self.team_names.setdefault(name.casefold(), name)
        if name in self.known_teams or name in self.teams:
            return name
        if self.strict:
            row.problem(spec.column, f"no team {name!r} in the company; --strict creates no team")
            return name
        parent = None
        if spec.parent_separator and spec.parent_separator in name:
            parent = " ".join(name.split(spec.parent_separator, 1)[0].split())
            if spec.fold_case:
                parent = self.team_names.setdefault(parent.casefold(), parent)
            if parent and parent != name and parent not in self.known_teams:
                self.teams.setdefault(parent, None)
        self.teams[name] = parent if parent != name else None
        return name

    def _employee(self, row: Row, team: str) -> str:
        """The card holder's e-mail; a new one becomes an employee of the team of their first row."""
        spec = self.mapping.employee
        if spec is None:
            return ""
        email = fields.quietly(fields.email, row.raw(spec.email))
        if email is not None and team and email not in self.employees:
            name = (row.raw(spec.name) if spec.name else "") or email
            self.employees[email] = EmployeeRow(
                row.line, email, name[:200], team, None, "employee", None, True, None, None, None
            )
        return row.raw(spec.email)

    def _mcc(self, row: Row) -> str:
        spec = self.mapping.mcc
        raw = _cell(row, spec)
        if spec is None or not raw:
            return ""
        code = raw.zfill(4) if raw.isdigit() and len(raw) < 4 else raw  # spreadsheets drop leading zeros
        if spec.unknown == "ignore" and fields.quietly(fields.mcc, code) is None:
            return ""
        return code

    def _category(self, row: Row) -> str:
        spec = self.mapping.category
        label = _cell(row, spec)
        if spec is None or not label:
            return ""
        code = self.codes.get(label)
        if code is not None:
            return code
        if len(label) > 200:
            row.problem(spec.column, "longer than 200 characters")
            return ""
        if self.given is not None:
            row.problem(spec.column, f"no category {label!r} in {spec.file} (by code or by name)")
            return ""
        code = category_code(label, self.taken)
        self.taken.add(code)
        self.codes[label] = code
        self.categories[code] = CategoryRow(row.line, code, label, None, None, None, None, ())
        return code

    def _converted(self, row: Row, amount: str, currency: str) -> str | None:
        """The amount in company currency at the mapping's rate; None: the row has no rate."""
        rate = self.rates.get(currency)
        if rate is None:
            if self.mapping.fx.without_rate == "skip":
                self.skipped[currency] += 1
            else:
                self.foreign[currency] += 1
                self.first_foreign = self.first_foreign or row.line
            return None
        try:
            value = Decimal(amount) * rate
        except InvalidOperation:
            return ""  # the amount's own problem is reported when it is parsed
        exponent = Decimal(1).scaleb(-currency_exponent(self.currency))
        return str(value.quantize(exponent, rounding=ROUND_HALF_EVEN))

    def report_foreign(self) -> None:
        """Rows in a currency without a rate: refused all together, with their count."""
        if not self.foreign:
            return
        count = sum(self.foreign.values())
        listed = ", ".join(f"{code} {n}" for code, n in self.foreign.most_common())
        self.problems.add(
            self.file,
            0,
            self.mapping.currency.column or "currency",
            f"{count} row(s) are in a currency other than {self.currency} with no rate ({listed}; the first "
            f"on line {self.first_foreign}); give their rates under fx.rates in the mapping, give the "
            "settled amount as amount_company, or set fx.without_rate: skip to leave them out",
        )

    def dataset(self, company: CompanyRow) -> Dataset:
        teams = [TeamRow(0, name, parent, None, None) for name, parent in self.teams.items()]
        categories = self.given if self.given is not None else list(self.categories.values())
        return Dataset(
            company, teams, list(self.employees.values()), categories, self.expenses, [], None, History(),
            [], [],
        )  # fmt: skip


def _sources(mapping: Mapping, dimensions: dict[str, str]) -> dict[str, str]:
    """expenses.csv column -> the export's column it comes from, to name it in problems."""
    m = mapping
    found: dict[str, str | None] = {
        "id": m.id.column or WHOLE,
        "date": m.date.column,
        "employee_email": m.employee.email if m.employee else None,
        "team": m.team.column,
        "descriptor": m.descriptor.column,
        "amount": m.amount.column,
        "currency": m.currency.column or "currency",
        "amount_company": m.amount_company.column if m.amount_company else m.amount.column,
        "category_code": m.category.column if m.category else None,
    }
    for name in ("merchant", "mcc", "memo", "cost_center", "project", "card", "receipt_id", "country"):
        spec = getattr(m, name)
        found[name] = spec.column if spec else None
    found |= {column: m.dimensions[name].column for name, column in dimensions.items()}
    return {target: source for target, source in found.items() if source}


def _cell(row: Row, spec: Column | None) -> str:
    if spec is None:
        return ""
    return row.raw(spec.column) or (spec.default or "")
