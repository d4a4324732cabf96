"""MCP resources: categories, teams, approval policy, budgets of a period (one expense
is served by the expenses capability, which owns it)."""

from resources.handlers import complete, register

__all__ = ["complete", "register"]
