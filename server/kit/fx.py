"""Exchange rates into the company currency (imported from fx_rates.csv) and exact conversion.

A rate says how many units of the company currency one unit of another currency is worth, from its
`valid_from` day (or since always) until the next rate of that currency. Conversion is done in
`Decimal` on minor units and rounded once, half to even; never in floating point.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from server.db.models import FxRate
from server.errors import InvalidArgument
from server.kit.money import currency_exponent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Converted:
    amount_minor: int  # in the company currency
    rate: Decimal | None  # None: the amount was in the company currency already


def convert_minor(amount_minor: int, currency: str, company_currency: str, rate: Decimal) -> int:
    """`amount_minor` of `currency` in minor units of `company_currency`, rounded half to even."""
    shift = currency_exponent(company_currency) - currency_exponent(currency)
    value = (Decimal(amount_minor) * rate).scaleb(shift)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


async def rates_on(session: AsyncSession, company_id: int, day: dt.date) -> dict[str, Decimal]:
    """The rate in force on `day` for each currency the company has one for."""
    query = select(FxRate.currency, FxRate.rate, FxRate.valid_from).where(
        FxRate.company_id == company_id, or_(FxRate.valid_from.is_(None), FxRate.valid_from <= day)
    )
    latest: dict[str, tuple[dt.date, Decimal]] = {}
    for currency, rate, valid_from in await session.execute(query):
        since = valid_from or dt.date.min
        if currency not in latest or since > latest[currency][0]:
            latest[currency] = (since, Decimal(rate))
    return {currency: rate for currency, (_, rate) in latest.items()}


async def to_company_currency(
    session: AsyncSession,
    company_id: int,
    company_currency: str,
    amount_minor: int,
    currency: str,
    day: dt.date,
) -> Converted:
    """Raises `InvalidArgument` naming the currencies that can be converted when `currency` cannot."""
    if currency == company_currency:
        return Converted(amount_minor, None)
    rates = await rates_on(session, company_id, day)
    if currency not in rates:
        known = ", ".join(sorted(rates)) or "none"
        raise InvalidArgument(
            f"no exchange rate from {currency} to {company_currency} in force on {day.isoformat()}; "
            f"give the amount in {company_currency} or in a currency with a rate (known: {known})"
        )
    rate = rates[currency]
    return Converted(convert_minor(amount_minor, currency, company_currency, rate), rate)
