"""MCP resources: categories, teams, approval policy, budgets of a period, one expense."""

from resources.handlers import register

__all__ = ["register"]
