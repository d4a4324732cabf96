"""Expenses capability: search_expenses and get_expense."""

from tools.expenses.tool import register

__all__ = ["register"]
