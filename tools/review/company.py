"""The company settings a review reads besides its expenses: the approval thresholds, the country and
its public holidays, and the exchange rate of an expense policy written in another currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy import select

from server.db.models import ApprovalPolicy, Company, PaymentType
from server.errors import InvalidArgument
from server.kit.approval_policy import Conditions, Policy
from server.kit.countries import public_holidays
from server.kit.fx import rates_on
from server.kit.money import currency_exponent
from tools.review.findings import Threshold

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def approval_thresholds(session: AsyncSession, company_id: int, currency: str) -> tuple[Threshold, ...]:
    """The amounts from which the approval policy in force asks for an approval (docs/review.md)."""
    query = (
        select(ApprovalPolicy.document)
        .where(ApprovalPolicy.company_id == company_id)
        .order_by(ApprovalPolicy.version.desc())
        .limit(1)
    )
    document = await session.scalar(query)
    if document is None:
        return ()
    try:
        policy = Policy.model_validate(document)
    except ValidationError:  # checked at import: a document that no longer parses gives no thresholds
        return ()
    found = {_threshold(rule.when, currency) for rule in policy.rules}
    return tuple(
        sorted((t for t in found if t is not None), key=lambda t: (t.minor, sorted(t.categories or ())))
    )


def _threshold(when: Conditions, currency: str) -> Threshold | None:
    if when.team_in or when.requester_role_in:
        return None
    if when.payment_type_in is not None and PaymentType.CARD not in when.payment_type_in:
        return None
    categories = None if when.category_in is None else frozenset(when.category_in)
    if when.amount_over is not None:
        return Threshold(
            _ceil_minor(when.amount_over, currency) + _over(when.amount_over, currency), categories
        )
    if when.amount_at_least is not None:
        return Threshold(_ceil_minor(when.amount_at_least, currency), categories)
    return None


def _ceil_minor(amount: Decimal, currency: str) -> int:
    scaled = Fraction(amount.scaleb(currency_exponent(currency)))
    return -(-scaled.numerator // scaled.denominator)


def _over(amount: Decimal, currency: str) -> int:
    """One minor unit above an exact `amount_over` (more than 5000: from 5000.01)."""
    scaled = Fraction(amount.scaleb(currency_exponent(currency)))
    return 1 if scaled.denominator == 1 else 0


async def country(session: AsyncSession, company_id: int) -> str | None:
    return await session.scalar(select(Company.country).where(Company.id == company_id))


def holidays(code: str | None, first: dt.date, last: dt.date) -> frozenset[dt.date]:
    if code is None:
        return frozenset()
    return frozenset().union(*(public_holidays(code, year) for year in range(first.year, last.year + 1)))


async def policy_rate(
    session: AsyncSession, company_id: int, policy_currency: str, company_currency: str, today: dt.date
) -> tuple[int, int]:
    """company minor = policy minor * num / den, at the rate in force today."""
    if policy_currency == company_currency:
        return (1, 1)
    rates = await rates_on(session, company_id, today)
    if policy_currency not in rates:
        raise InvalidArgument(
            f"the expense policy's amounts are in {policy_currency}, and the company has no exchange rate "
            f"from {policy_currency} to {company_currency}; load one (fx_rates.csv) or reload the policy"
        )
    shift = currency_exponent(company_currency) - currency_exponent(policy_currency)
    rate = Fraction(rates[policy_currency]) * Fraction(10) ** shift
    return (rate.numerator, rate.denominator)
