"""Expenses and contexts for the review engine's tests: keyword-only, with defaults that break nothing."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from server.kit.expense_policy import ExpensePolicy
from tools.review.findings import ReviewContext, ReviewedExpense

DAY = dt.date(2026, 7, 7)  # a Tuesday
_ids = itertools.count(1)


def expense(
    *,
    day: dt.date = DAY,
    amount: int = 12_000,
    currency: str = "EUR",
    original: int | None = None,
    merchant_id: int = 1,
    merchant: str = "Hotel Adlon",
    descriptor: str | None = None,
    memo: str | None = None,
    mcc: str | None = "7011",
    category: str | None = "TRAVEL",
    team: str = "Sales",
    employee: str | None = "ana@acme.test",
    card: str | None = None,
    receipt_id: str | None = None,
    receipt_present: bool = True,
    country: str | None = None,
    id: int | None = None,
) -> ReviewedExpense:
    number = next(_ids) if id is None else id
    return ReviewedExpense(
        id=number,
        ref=f"EXP-{number:06d}",
        spent_on=day,
        amount_minor=amount,
        original_minor=amount if original is None else original,
        currency=currency,
        merchant_id=merchant_id,
        merchant=merchant,
        descriptor=merchant.upper() if descriptor is None else descriptor,
        memo=memo,
        mcc=mcc,
        category=category,
        team=team,
        employee=employee,
        card=card,
        receipt_id=receipt_id,
        receipt_present=receipt_present,
        country=country,
    )


def policy(rules: list[dict[str, Any]] | None = None, **patterns: Any) -> ExpensePolicy:
    """A policy of these rules; each pattern named is set (`spikes={...}`), the others off."""
    names = ("duplicates", "split_purchases", "spikes", "new_merchant", "round_numbers", "refunds")
    settings = {name: patterns.get(name, {"enabled": False}) for name in names}
    return ExpensePolicy.model_validate({"rules": rules or [], "patterns": settings})


def context(policy: ExpensePolicy, **fields: Any) -> ReviewContext:
    return ReviewContext(policy=policy, company_currency="EUR", **fields)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
