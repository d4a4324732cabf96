"""How expenses are grouped by a dimension in SQL, for every capability that totals spend by one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import JSON, ColumnElement, ScalarSelect, Select, and_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from server.db.models import Category, Employee, Expense, ExpenseDimension, Merchant, Team
from server.db.values import free_name

if TYPE_CHECKING:
    from sqlalchemy.sql.compiler import SQLCompiler


class Dimension(NamedTuple):
    """How to group expenses by one dimension. Joined with an outer join, which keeps the expenses
    without a category or a value (they form a group of their own, keyed None); the other references
    are required."""

    key: Any  # what a group is keyed by (a code, a name, an e-mail)
    label: Any  # its display name
    table: Any  # the table to join; None: a column of the expenses
    on: ColumnElement[bool] | None  # the join condition
    group_by: tuple[Any, ...]  # the GROUP BY columns

    def joined(self, query: Select[Any]) -> Select[Any]:
        """`query`, which selects from the expenses, with the join this dimension needs."""
        return query if self.table is None else query.outerjoin(self.table, self.on)


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
    "cost_center": Dimension(Expense.cost_center, Expense.cost_center, None, None, (Expense.cost_center,)),
    "project": Dimension(Expense.project, Expense.project, None, None, (Expense.project,)),
}


def dimension(group_by: str) -> Dimension:
    """One of DIMENSIONS, or a free dimension ("dim:fund": an expense has at most one value of each)."""
    name = free_name(group_by)
    if name is None:
        return DIMENSIONS[group_by]
    on = and_(ExpenseDimension.expense_id == Expense.id, ExpenseDimension.name == name)
    value = ExpenseDimension.value
    return Dimension(value, value, ExpenseDimension, on, (value,))


class json_object_agg(FunctionElement[Any]):  # lower case: used like a SQL function
    """(key, value) pairs aggregated into one JSON object, on both backends; over no rows SQLite gives {}
    and PostgreSQL NULL."""

    type = JSON()
    inherit_cache = True


@compiles(json_object_agg, "postgresql")
def _json_object_agg_postgresql(element: json_object_agg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object_agg({compiler.process(element.clauses, **kw)})"


@compiles(json_object_agg, "sqlite")
def _json_object_agg_sqlite(element: json_object_agg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


def free_dimensions_of_expense() -> ScalarSelect[Any]:
    """The expense's free dimensions as one JSON object (name -> value), a column of a query from the
    expenses: one statement reads an expense with them."""
    pairs = json_object_agg(ExpenseDimension.name, ExpenseDimension.value)
    return (
        select(pairs)
        .where(ExpenseDimension.expense_id == Expense.id, ExpenseDimension.company_id == Expense.company_id)
        .scalar_subquery()
    )
