"""MCP resources: categories, teams, approval policy, budgets of a period, one expense."""

from resources.handlers import complete, register

__all__ = ["complete", "register"]
