"""approval_policy.json: the `server.kit.approval_policy.Policy` model, plus what it names that must exist.

Every problem is on line 0 with the JSON path of the bad value as its column (`-` for the document):
server/importer/json_file.py.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from server.importer.checks import Known, unknown_reference
from server.importer.json_file import check_amount, check_known, read_document
from server.importer.problems import WHOLE, Problems
from server.kit.approval_policy import EmployeeStep, Policy, RoleStep, distinct_steps, nested_steps

FILE = "approval_policy.json"


def read_policy(
    folder: Path, known: Known, roles: Collection[str] | None, problems: Problems
) -> Policy | None:
    path = folder / FILE
    if not path.is_file():
        problems.add(FILE, 0, WHOLE, "required file is missing")
        return None
    policy = read_document(path, FILE, Policy, problems)
    if policy is not None:
        _check_names(policy, known, roles, problems)
    return policy


def _check_names(policy: Policy, known: Known, roles: Collection[str] | None, problems: Problems) -> None:
    """Categories, teams, employees and roles the rules name must exist; amounts must fit the currency."""
    for index, rule in enumerate(policy.rules):
        where = f"rules[{index}]"
        _check_signers(f"{where}.min_distinct_approvers", rule.min_distinct_approvers, policy, problems)
        when = rule.when
        for key, value in (("amount_over", when.amount_over), ("amount_at_least", when.amount_at_least)):
            if value is not None and known.currency is not None:
                check_amount(FILE, f"{where}.when.{key}", str(value), known.currency, problems)
        categories, teams = known.categories, known.teams
        check_known(FILE, f"{where}.when.category_in", when.category_in, "category", categories, problems)
        check_known(FILE, f"{where}.when.team_in", when.team_in, "team", teams, problems)
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
