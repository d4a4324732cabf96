"""Expenses capability: search_expenses, get_expense and the one-expense resource."""

from tools.expenses.tool import complete, register

__all__ = ["complete", "register"]
