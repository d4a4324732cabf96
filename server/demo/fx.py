"""The demo's fixed exchange-rate table and the exact conversion into the company currency."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from server.kit.money import currency_exponent

COMPANY_CURRENCY = "EUR"

# Units of EUR for one unit of the foreign currency. Fixed (not daily) so that every amount_company in
# the demo can be checked against this table exactly.
FX_TO_EUR: dict[str, Decimal] = {
    "EUR": Decimal("1"),
    "GBP": Decimal("1.1650"),
    "USD": Decimal("0.9150"),
}


def to_company_minor(amount_minor: int, currency: str) -> int:
    """Settled amount in EUR minor units: exact Decimal arithmetic, banker's rounding once at the end."""
    if currency == COMPANY_CURRENCY:
        return amount_minor
    shift = currency_exponent(COMPANY_CURRENCY) - currency_exponent(currency)
    value = Decimal(amount_minor) * FX_TO_EUR[currency]
    return int(value.scaleb(shift).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


_FLOAT_RATES = {code: float(rate) for code, rate in FX_TO_EUR.items()}


def from_eur(amount_eur: float, currency: str) -> float:
    """Rough local price of something that costs `amount_eur` (only used to draw realistic amounts)."""
    return amount_eur / _FLOAT_RATES[currency]
