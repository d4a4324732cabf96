"""Spend capability: summarize_spend."""

from tools.spend.tool import register

__all__ = ["register"]
