"""A page of expenses as the answers read it: the expense's columns and its employee's, team's, merchant's
and category's, as plain rows (`ROWS`: five bundles of columns, not five ORM entities a row through the
identity map: the rows are only read). `server.kit.selection` pages through them; get_expense reads one
with its approval requests (tools/expenses/queries.py); the categorizer reads the backlog's. A search's
page reads only what its items show, as flat Core rows (`ITEM_ROWS`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Bundle

from server.db.models import Category, Employee, Expense, Merchant, Team


class ExpenseColumns(Protocol):
    """The expense's columns a page row carries (plain values, not an ORM entity: `ROWS`)."""

    @property
    def id(self) -> int: ...
    @property
    def ref(self) -> str: ...
    @property
    def spent_on(self) -> dt.date: ...
    @property
    def descriptor(self) -> str: ...
    @property
    def memo(self) -> str | None: ...
    @property
    def mcc(self) -> str | None: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def amount_company_minor(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def payment_type(self) -> str: ...
    @property
    def category_source(self) -> str | None: ...
    @property
    def category_confidence(self) -> float | None: ...
    @property
    def receipt_present(self) -> bool: ...
    @property
    def cost_center(self) -> str | None: ...
    @property
    def project(self) -> str | None: ...


class PersonColumns(Protocol):
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...


class TeamColumns(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def cost_center(self) -> str | None: ...


class MerchantColumns(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def mcc(self) -> str | None: ...


class CategoryColumns(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class ExpenseRow:
    expense: ExpenseColumns
    employee: PersonColumns | None  # None: the export named no one
    team: TeamColumns
    merchant: MerchantColumns
    category: CategoryColumns | None


class _Joined(Bundle[Any]):
    """Columns of an outer-joined table as one plain row, or None when the join found no row (its first
    column, the primary key, is NULL)."""

    def create_row_processor(self, query: Any, procs: Any, labels: Any) -> Any:
        make = super().create_row_processor(query, procs, labels)

        def joined_or_none(row: Any) -> Any:
            made = make(row)
            return None if made[0] is None else made

        return joined_or_none


# Plain rows, not ORM entities: a page of 51 expenses was 255 entities through the identity map, the
# largest share of SQLAlchemy's CPU in a search (the rows are only read).
_EXPENSE: Bundle[Any] = Bundle(
    "expense",
    *(
        getattr(Expense, name)
        for name in (
            "id",
            "ref",
            "spent_on",
            "descriptor",
            "memo",
            "mcc",
            "amount_minor",
            "currency",
            "amount_company_minor",
            "status",
            "payment_type",
            "category_source",
            "category_confidence",
            "receipt_present",
            "cost_center",
            "project",
        )
    ),
)


def _with_parties(columns: Select[Any]) -> Select[Any]:
    """The expense joined to its employee, team, merchant and category."""
    return (
        # Outer: an expense whose export named no one is still one of the company's expenses.
        columns.outerjoin(Employee, Employee.id == Expense.employee_id)
        .join(Team, Team.id == Expense.team_id)
        .join(Merchant, Merchant.id == Expense.merchant_id)
        .outerjoin(Category, Category.id == Expense.category_id)
    )


ROWS = _with_parties(
    select(
        _EXPENSE,
        _Joined("employee", Employee.id, Employee.email, Employee.name),
        Bundle("team", Team.name, Team.cost_center),
        Bundle("merchant", Merchant.name, Merchant.mcc),
        _Joined("category", Category.id, Category.code, Category.name),
    )
)


class ItemColumns(Protocol):
    """What a search result's item shows of an expense: one flat row (`ITEM_ROWS`)."""

    @property
    def id(self) -> int: ...
    @property
    def ref(self) -> str: ...
    @property
    def spent_on(self) -> dt.date: ...
    @property
    def descriptor(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def amount_company_minor(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def receipt_present(self) -> bool: ...
    @property
    def category_source(self) -> str | None: ...
    @property
    def category_confidence(self) -> float | None: ...
    @property
    def employee_email(self) -> str | None: ...  # None: the export named no one
    @property
    def employee_name(self) -> str | None: ...
    @property
    def team(self) -> str: ...
    @property
    def merchant(self) -> str: ...
    @property
    def category_code(self) -> str | None: ...  # None: not categorized
    @property
    def category_name(self) -> str | None: ...


# The columns a search's items show, no bundles: a page of 51 rows read this way costs about half the CPU
# of the same page through `ROWS` (0.35-0.53 against 0.76-0.84 ms, both statements built once).
_ITEM_COLUMNS: tuple[Any, ...] = (
    Expense.id,
    Expense.ref,
    Expense.spent_on,
    Expense.descriptor,
    Expense.amount_minor,
    Expense.currency,
    Expense.amount_company_minor,
    Expense.status,
    Expense.receipt_present,
    Expense.category_source,
    Expense.category_confidence,
    Employee.email.label("employee_email"),
    Employee.name.label("employee_name"),
    Team.name.label("team"),
    Merchant.name.label("merchant"),
    Category.code.label("category_code"),
    Category.name.label("category_name"),
)
ITEM_ROWS = _with_parties(select(*_ITEM_COLUMNS))
