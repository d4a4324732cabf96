"""expenses.csv and budgets.csv: amounts with their currencies, references to the organization files."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from server.db.models import CategorySource, ExpenseStatus, PaymentType
from server.importer import fields
from server.importer.checks import Known, check_reference, first_use
from server.importer.problems import Problems
from server.importer.rows import Columns, Family, Row, read_csv
from server.importer.store import ExpenseIds, ExpenseRow, ExpenseStore, Money
from server.kit.merchants import normalize_merchant

# The free analytical fields of an export (dim_fund, dim_location): names as long as a code, values as
# a name (the sizes of expense_dimensions' columns).
DIMENSION = Family("dim_", max_name=64)
EXPENSES = Columns.of(
    "id date descriptor amount currency",
    "employee_email team merchant mcc amount_company memo status payment_type category_code"
    " category_source receipt cost_center project card receipt_id country",
    DIMENSION,
)
BUDGETS = Columns.of("team period amount currency", "category_code")
ID = fields.text(64)
NAME = fields.text(200)
NOTE = fields.text(10_000)
STATUS = fields.choice(ExpenseStatus)
CARD = fields.text(32)
PAYMENT_TYPE = fields.choice(PaymentType)
CATEGORY_SOURCE = fields.choice(CategorySource)


@dataclass
class Expenses:
    # The checked rows, on disk until they are written (server/importer/store.py).
    rows: ExpenseStore = field(default_factory=ExpenseStore)
    # Each id's line, for duplicates and references (approval_history.csv's expense_id).
    refs: ExpenseIds = field(default_factory=ExpenseIds)
    # The names of the file's dim_<name> columns, sorted: the company's free dimensions.
    dimensions: list[str] = field(default_factory=list)
    # Every merchant name and how often each MCC was seen with it (its most common one is kept).
    merchant_mccs: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, row: Row, expense: ExpenseRow | None) -> None:
        """Keep a parsed row (its id must be new to the file); a duplicate id is the row's problem."""
        ref = row.raw("id")
        if ref and first_use(row, "id", ref, self.refs, f"expense id {ref!r}") and expense is not None:
            self.keep(expense)

    def keep(self, expense: ExpenseRow) -> None:
        self.rows.append(expense)
        counts = self.merchant_mccs.setdefault(expense.merchant, Counter())
        if expense.mcc is not None:
            counts[expense.mcc] += 1


@dataclass(frozen=True)
class BudgetRow:
    team: str
    category: str | None
    period_start: dt.date
    period_end: dt.date
    amount_minor: int
    currency: str


def amount_cell(row: Row, column: str, currency: str | None, *, required: bool = False) -> int | None:
    """Minor units in `currency`; with no valid currency only the shape of the amount is checked."""
    if currency is None:
        row.value(column, fields.decimal_text, required=required)
        return None
    return row.value(column, fields.amount(currency), required=required)


def read_money(row: Row, company_currency: str | None) -> Money | None:
    """`amount` in `currency`, and `amount_company`: required unless the currency is the company's."""
    code = row.value("currency", fields.currency, required=True)
    amount = amount_cell(row, "amount", code, required=True)
    company_amount = amount_cell(row, "amount_company", company_currency)
    if code is None or company_currency is None:
        return None
    if code == company_currency:
        if company_amount is not None and amount is not None and company_amount != amount:
            row.problem("amount_company", f"differs from amount, but currency is the company currency {code}")
        company_amount = amount
    elif not row.raw("amount_company"):
        row.problem(
            "amount_company", f"required when currency ({code}) is not the company's ({company_currency})"
        )
    if amount is None or company_amount is None:
        return None
    return Money(amount, code, company_amount)


def read_expenses(folder: Path, known: Known, problems: Problems) -> Expenses | None:
    rows = read_csv(folder, "expenses.csv", EXPENSES, problems)
    if rows is None:
        return None
    dimensions = rows.members(DIMENSION)
    expenses = Expenses(dimensions=list(dimensions))
    for row in rows:
        expenses.add(row, parse_expense(row, known, dimensions))
    return expenses if rows.complete else None


def parse_expense(row: Row, known: Known, dimensions: dict[str, str]) -> ExpenseRow | None:
    """One expenses.csv row (or a flat export's row in its shape: server/importer/flat.py); None when it
    has problems. `dimensions`: dimension name -> column."""
    ref = row.value("id", ID, required=True)
    spent_on = row.value("date", fields.date, required=True)
    employee = row.value("employee_email", fields.email)
    check_reference(row, "employee_email", employee, "employee", known.employees)
    team = row.value("team", NAME, required=not row.raw("employee_email"))
    check_reference(row, "team", team, "team", known.teams)
    descriptor = row.value("descriptor", NAME, required=True)
    merchant = row.value("merchant", NAME)
    mcc = row.value("mcc", fields.mcc)
    money = read_money(row, known.currency)
    memo = row.value("memo", NOTE)
    status = row.value("status", STATUS) or ExpenseStatus.PENDING
    payment_type = row.value("payment_type", PAYMENT_TYPE) or PaymentType.CARD
    category = row.value("category_code", ID)
    check_reference(row, "category_code", category, "category", known.categories)
    source = _category_source(row, category)
    receipt = row.value("receipt", fields.boolean) or False
    cost_center = row.value("cost_center", ID)
    project = row.value("project", ID)
    tags = _dimensions(row, dimensions)
    card = row.value("card", CARD)
    receipt_id = row.value("receipt_id", ID)
    country = row.value("country", fields.country)
    if ref is None or spent_on is None or descriptor is None or money is None or not row.ok:
        return None
    merchant = merchant or normalize_merchant(descriptor)
    return ExpenseRow(
        ref, spent_on, employee, team, descriptor, merchant, mcc, money, memo, status, payment_type,
        category, source, receipt, cost_center, project, tags, row.line, card, receipt_id, country,
    )  # fmt: skip


def _dimensions(row: Row, columns: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """(name, value) of the row's non-empty dimension cells; an empty cell: no value for that expense."""
    if not columns:  # most files: skip building a generator for each of a million rows
        return ()
    found = ((name, row.value(column, NAME)) for name, column in columns.items())
    return tuple((name, value) for name, value in found if value is not None)


def _category_source(row: Row, category: str | None) -> CategorySource | None:
    source = row.value("category_source", CATEGORY_SOURCE)
    if source is not None and not row.raw("category_code"):
        row.problem("category_source", "given without a category_code")
    if source is None and category is not None:
        return CategorySource.HUMAN
    return source


def read_budgets(folder: Path, known: Known, problems: Problems) -> list[BudgetRow] | None:
    rows = read_csv(folder, "budgets.csv", BUDGETS, problems)
    if rows is None:
        return None
    budgets: list[BudgetRow] = []
    seen: dict[tuple[str, str | None, dt.date], int] = {}
    for row in rows:
        budget = _budget(row, known)
        if budget is None:
            continue
        scope = f"category {budget.category!r}" if budget.category else "all categories"
        label = f"budget for team {budget.team!r}, {scope}, starting {budget.period_start}"
        if first_use(row, "period", (budget.team, budget.category, budget.period_start), seen, label):
            budgets.append(budget)
    return budgets if rows.complete else None


def _budget(row: Row, known: Known) -> BudgetRow | None:
    team = row.value("team", NAME, required=True)
    check_reference(row, "team", team, "team", known.teams)
    category = row.value("category_code", ID)
    check_reference(row, "category_code", category, "category", known.categories)
    period = row.value("period", fields.period, required=True)
    code = row.value("currency", fields.currency, required=True)
    if code is not None and known.currency is not None and code != known.currency:
        row.problem("currency", f"{code} is not the company currency ({known.currency}); budgets are in it")
    amount = amount_cell(row, "amount", code, required=True)
    if amount is not None and amount < 0:
        row.problem("amount", "must not be negative")
    if team is None or period is None or code is None or amount is None or not row.ok:
        return None
    return BudgetRow(team, category, period[0], period[1], amount, code)
