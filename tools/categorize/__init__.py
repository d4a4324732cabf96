"""Categorize capability: categorize_expense and categorize_expenses, the categorizer behind them
(rules, company model, MCC prior, LLM, abstain), its training, serving and evaluation."""

from tools.categorize.tool import register

__all__ = ["register"]
