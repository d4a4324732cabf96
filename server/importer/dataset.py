"""Reading a whole import folder: every file, every check, every problem; no database involved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.importer.checks import Known
from server.importer.expense_policy_file import read_expense_policy
from server.importer.fx import FxRateRow, read_fx_rates
from server.importer.history import History, read_history
from server.importer.org import (
    CategoryRow,
    CompanyCells,
    CompanyRow,
    EmployeeRow,
    TeamRow,
    check_organization,
    keys_of,
    read_categories,
    read_company,
    read_employees,
    read_teams,
)
from server.importer.policy_file import read_policy
from server.importer.problems import WHOLE, Problems
from server.importer.rules import CategoryRuleRow, read_category_rules
from server.importer.spend import BudgetRow, Expenses, read_budgets, read_expenses
from server.kit.approval_policy import Policy
from server.kit.expense_policy import ExpensePolicy


@dataclass(frozen=True)
class Dataset:
    """A folder that passed every check, ready to be written."""

    company: CompanyRow
    teams: list[TeamRow]
    employees: list[EmployeeRow]
    categories: list[CategoryRow]
    expenses: Expenses
    budgets: list[BudgetRow]
    policy: Policy | None  # None: no approval policy (a flat export brings none)
    history: History
    fx_rates: list[FxRateRow]
    category_rules: list[CategoryRuleRow]
    expense_policy: ExpensePolicy | None = None  # None: no expense_policy.json (the review's patterns only)


@dataclass(frozen=True)
class Reading:
    company: CompanyCells
    dataset: Dataset | None  # None when there are problems


def read_folder(folder: Path, problems: Problems) -> Reading:
    """Read and check every file of `folder`, recording all problems (files are read in the order of
    their dependencies, so each reference can be checked against the file it points at)."""
    if not folder.is_dir():
        problems.add(str(folder), 0, WHOLE, "not a folder")
        return Reading(CompanyCells(), None)
    company = read_company(folder, problems)
    teams = read_teams(folder, problems)
    employees = read_employees(folder, company.currency, problems)
    categories = read_categories(folder, problems)
    check_organization(teams, employees, categories, problems)
    known = Known(company.currency, keys_of(teams), keys_of(employees), keys_of(categories))
    expenses = read_expenses(folder, known, problems)
    budgets = read_budgets(folder, known, problems)
    roles = None if employees is None else employees.roles
    policy = read_policy(folder, known, roles, problems)
    history = read_history(folder, known, None if expenses is None else expenses.refs, problems)
    fx_rates = read_fx_rates(folder, company.currency, problems)
    category_rules = read_category_rules(folder, known, problems)
    rates = None if fx_rates is None else {rate.currency for rate in fx_rates}
    expense_policy = read_expense_policy(folder, known, rates, problems)
    if (
        problems
        or company.row is None
        or teams is None
        or employees is None
        or categories is None
        or expenses is None
        or budgets is None
        or policy is None
        or fx_rates is None
        or category_rules is None
    ):
        return Reading(company, None)
    dataset = Dataset(
        company.row,
        teams.rows,
        employees.rows,
        categories.rows,
        expenses,
        budgets,
        policy,
        history,
        fx_rates,
        category_rules,
        expense_policy,
    )
    return Reading(company, dataset)
