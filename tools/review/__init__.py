"""Review capability: review_expenses (policy breaches and error/fraud patterns, with evidence)."""

from tools.review.tool import register

__all__ = ["register"]
