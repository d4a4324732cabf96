"""How expenses are grouped by a dimension in SQL, for every capability that totals spend by one."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import ColumnElement

from server.db.models import Category, Employee, Expense, Merchant, Team


class Dimension(NamedTuple):
    """How to group expenses by one dimension. Joined with an outer join, which keeps the expenses
    without a category (they form the uncategorized bucket); the other references are required."""

    key: Any  # what a group is keyed by (a code, a name, an e-mail)
    label: Any  # its display name
    table: Any  # the table to join
    on: ColumnElement[bool]  # the join condition
    group_by: tuple[Any, ...]  # the GROUP BY columns


DIMENSIONS: dict[str, Dimension] = {
    "category": Dimension(
        Category.code,
        Category.name,
        Category,
        Category.id == Expense.category_id,
        (Expense.category_id, Category.code, Category.name),
    ),
    "team": Dimension(Team.name, Team.name, Team, Team.id == Expense.team_id, (Team.id, Team.name)),
    "merchant": Dimension(
        Merchant.name,
        Merchant.name,
        Merchant,
        Merchant.id == Expense.merchant_id,
        (Merchant.id, Merchant.name),
    ),
    "employee": Dimension(
        Employee.email,
        Employee.name,
        Employee,
        Employee.id == Expense.employee_id,
        (Employee.id, Employee.email, Employee.name),
    ),
}
