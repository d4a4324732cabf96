"""Amounts as the review compares and shows them: exact, never in floating point.

Policy amounts are decimals in the policy's currency; expenses are compared in the company currency,
so a policy amount becomes a `Fraction` of company minor units (`ReviewContext.policy_rate`), and a
comparison with an expense's integer minor units stays exact.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from server.kit.money import currency_exponent, format_amount

if TYPE_CHECKING:
    from tools.review.findings import ReviewContext, ReviewedExpense


def policy_currency(context: ReviewContext) -> str:
    return context.policy.currency or context.company_currency


def in_company_minor(context: ReviewContext, amount: Decimal) -> Fraction:
    """A policy amount in company minor units (exact: a fraction when the rate makes one)."""
    minor = Fraction(amount.scaleb(currency_exponent(policy_currency(context))))
    numerator, denominator = context.policy_rate
    return minor * numerator / denominator


def shown(minor: int, currency: str) -> str:
    """1234.50 EUR"""
    return f"{format_amount(minor, currency)} {currency}"


def shown_policy(context: ReviewContext, amount: Decimal) -> str:
    """A policy amount as the policy wrote it, with its currency: 5000 EUR."""
    return f"{amount} {policy_currency(context)}"


def expense_line(expense: ReviewedExpense, currency: str) -> str:
    """EXP-000123 2026-07-03 Hotel Adlon 250.00 EUR (as spent: 270.00 USD)"""
    amount = shown(expense.amount_minor, currency)
    line = f"{expense.ref} {expense.spent_on.isoformat()} {expense.merchant} {amount}"
    if expense.currency != currency:
        line += f" (as spent: {shown(expense.original_minor, expense.currency)})"
    return line


def expense_lines(expenses: list[ReviewedExpense], currency: str) -> str:
    return "; ".join(expense_line(expense, currency) for expense in expenses)


def percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"
