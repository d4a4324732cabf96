"""How expenses are grouped by a dimension in SQL, for every capability that totals spend by one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from server.db.models import Category, Employee, Expense, Merchant, Team

# dimension → (key, display name, table to join, join condition, GROUP BY columns). Outer joins keep the
# expenses without a category (they form the uncategorized bucket); the other references are required.
DIMENSIONS: dict[str, tuple[Any, Any, Any, ColumnElement[bool], tuple[Any, ...]]] = {
    "category": (
        Category.code,
        Category.name,
        Category,
        Category.id == Expense.category_id,
        (Expense.category_id, Category.code, Category.name),
    ),
    "team": (Team.name, Team.name, Team, Team.id == Expense.team_id, (Team.id, Team.name)),
    "merchant": (
        Merchant.name,
        Merchant.name,
        Merchant,
        Merchant.id == Expense.merchant_id,
        (Merchant.id, Merchant.name),
    ),
    "employee": (
        Employee.email,
        Employee.name,
        Employee,
        Employee.id == Expense.employee_id,
        (Employee.id, Employee.email, Employee.name),
    ),
}
