"""approval_policy.json: the `server.kit.approval_policy.Policy` model, plus what it names that must exist.

Every problem is on line 0 with the JSON path of the bad value as its column (`-` for the document).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection
from pathlib import Path

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from server.importer import fields
from server.importer.checks import Known, unknown_reference
from server.importer.problems import WHOLE, Problems
from server.kit.approval_policy import (
    Conditions,
    Controls,
    EmployeeStep,
    Policy,
    RoleStep,
    Rule,
    distinct_steps,
    nested_steps,
)

FILE = "approval_policy.json"
# The model at each depth of a path, to list the keys an unknown key could have meant.
_MODEL_AT_DEPTH: dict[int, type[BaseModel]] = {1: Policy, 2: Controls, 3: Rule, 4: Conditions}
_MESSAGES = {
    "missing": "required",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "tuple_type": "must be a JSON list",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
}


def read_policy(
    folder: Path, known: Known, roles: Collection[str] | None, problems: Problems
) -> Policy | None:
    path = folder / FILE
    if not path.is_file():
        problems.add(FILE, 0, WHOLE, "required file is missing")
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        policy = Policy.model_validate(document)
    except UnicodeDecodeError as error:
        problems.add(FILE, 0, WHOLE, f"not UTF-8 text ({error.reason} at byte {error.start})")
        return None
    except json.JSONDecodeError as error:
        problems.add(
            FILE, 0, WHOLE, f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        )
        return None
    except ValidationError as error:
        for detail in error.errors():
            problems.add(FILE, 0, json_path(detail["loc"]), _message(detail))
        return None
    _check_names(policy, known, roles, problems)
    return policy


def json_path(location: tuple[int | str, ...]) -> str:
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)
    return path.removeprefix(".") or WHOLE


def _message(detail: ErrorDetails) -> str:
    if detail["type"] == "extra_forbidden":
        model = _MODEL_AT_DEPTH.get(len(detail["loc"]))
        key = str(detail["loc"][-1])
        if model is None:
            return "unknown key"
        expected = list(model.model_fields)
        close = difflib.get_close_matches(key, expected, n=1)
        return (
            f"unknown key; did you mean {close[0]!r}?"
            if close
            else f"unknown key; expected: {', '.join(expected)}"
        )
    return _MESSAGES.get(detail["type"], detail["msg"])


def _check_names(policy: Policy, known: Known, roles: Collection[str] | None, problems: Problems) -> None:
    """Categories, teams, employees and roles the rules name must exist; amounts must fit the currency."""
    for index, rule in enumerate(policy.rules):
        where = f"rules[{index}]"
        _check_signers(f"{where}.min_distinct_approvers", rule.min_distinct_approvers, policy, problems)
        when = rule.when
        for key, value in (("amount_over", when.amount_over), ("amount_at_least", when.amount_at_least)):
            if value is not None and known.currency is not None:
                _check_amount(f"{where}.when.{key}", str(value), known.currency, problems)
        _check_all(f"{where}.when.category_in", when.category_in, "category", known.categories, problems)
        _check_all(f"{where}.when.team_in", when.team_in, "team", known.teams, problems)
        for position, step in enumerate(rule.steps):
            for part in nested_steps(step):
                column = f"{where}.steps[{position}]"
                employees = known.employees
                if isinstance(part, EmployeeStep) and employees is not None and part.email not in employees:
                    problems.add(FILE, 0, column, unknown_reference("employee", part.email, employees))
                if isinstance(part, RoleStep) and roles is not None and part.role not in roles:
                    problems.add(FILE, 0, column, f"no employee in employees.csv has the role {part.role!r}")


def _check_signers(column: str, wanted: int | None, policy: Policy, problems: Problems) -> None:
    """Each step brings one signer at most: more signers than the policy has steps cannot be met."""
    most = distinct_steps(policy)
    if wanted is not None and wanted > most:
        message = f"{wanted} signers cannot be met: the policy has {most} different steps, one signer each"
        problems.add(FILE, 0, column, message)


def _check_amount(column: str, text: str, currency: str, problems: Problems) -> None:
    try:
        fields.amount(currency)(text)
    except ValueError as error:
        problems.add(FILE, 0, column, str(error))


def _check_all(
    column: str, values: tuple[str, ...] | None, kind: str, known: Collection[str] | None, problems: Problems
) -> None:
    if values is None or known is None:
        return
    for position, value in enumerate(values):
        if value not in known:
            problems.add(FILE, 0, f"{column}[{position}]", unknown_reference(kind, value, known))
