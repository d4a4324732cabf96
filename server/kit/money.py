"""Money at the edges: parse decimal text into integer minor units, present minor units as text.

Storage is always (minor units, ISO 4217 code); `Decimal` only exists while parsing and presenting.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationInfo, WithJsonSchema

# Integer minor units of any currency (up to 4 decimals) stay far inside int64, also converted at any
# exchange rate; 30 digits would not even fit Decimal's default precision.
MAX_WHOLE_DIGITS, MAX_DECIMALS = 12, 4
AMOUNT_SIZE_HELP = f"at most {MAX_WHOLE_DIGITS} digits before the point and {MAX_DECIMALS} after"
_FINEST = Decimal(1).scaleb(-MAX_DECIMALS)


class MoneyError(ValueError):
    """A currency code or amount that cannot be represented exactly."""


@lru_cache(maxsize=512)  # a page of 50 expenses asks 100 times; an unknown code raises and is not kept
def currency_exponent(code: str) -> int:
    """Digits after the decimal point for an ISO 4217 currency (EUR 2, JPY 0, BHD 3)."""
    import iso4217  # its table (and xml.etree) loads with the first amount, not at start-up

    try:
        exponent = iso4217.Currency(code).exponent
    except ValueError:
        raise MoneyError(f"unknown ISO 4217 currency code {code!r}") from None
    if exponent is None:  # funds codes such as XAU carry no minor unit
        raise MoneyError(f"{code!r} is not a spendable currency")
    return int(exponent)


def normalize_currency(code: str) -> str:
    normalized = code.strip().upper()
    currency_exponent(normalized)
    return normalized


def to_minor(amount: Decimal | str, currency: str) -> int:
    """Exact conversion; an amount with more decimals than the currency has is an error, not rounded."""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(amount.strip())
    except InvalidOperation:
        raise MoneyError(f"{amount!r} is not a decimal amount (use a point: 1234.56)") from None
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not a finite amount")
    if not _within_size(value):
        raise MoneyError(f"{str(amount).strip()} is too large or too precise: {AMOUNT_SIZE_HELP}")
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


def _within_size(value: Decimal) -> bool:
    """The one amount bound, exact: comparisons are, while `normalize()` or arithmetic would first round
    to Decimal's 28 digits (1.000000000000000000000000000001 to 1). Checking the whole digits first keeps
    the quantize inside that precision."""
    return value.adjusted() < MAX_WHOLE_DIGITS and value == value.quantize(_FINEST)


def to_decimal(minor: int, currency: str) -> Decimal:
    exponent = currency_exponent(currency)
    return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def format_amount(minor: int, currency: str) -> str:
    """Decimal string with exactly the currency's digits: 1234.50 for EUR, 1234 for JPY. The text of
    `to_decimal`, in integer arithmetic (a fifth of the CPU: a page of 50 expenses formats 100)."""
    exponent = currency_exponent(currency)
    whole, fraction = divmod(abs(minor), 10**exponent)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"


AMOUNT_PATTERN = r"^\s*-?\d+(\.\d+)?\s*$"


def _number_as_text(value: Any) -> Any:
    # Agents (and the MCP Inspector) often send 23.40 as a JSON number; its shortest repr is what they
    # wrote, so it converts exactly. Text stays text, and no float ever reaches the arithmetic.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    return value


def _amount_text(value: str, info: ValidationInfo) -> str:
    if not re.match(AMOUNT_PATTERN, value):
        raise ValueError(f"{value!r} is not a decimal amount: use digits and a point, e.g. '1234.50'")
    if not _within_size(Decimal(value.strip())):
        named = f"{info.field_name}: " if info.field_name else ""
        raise ValueError(f"{named}{AMOUNT_SIZE_HELP}, e.g. '999999999999.99'")
    return value.strip()


# A tool argument holding an amount: a decimal string (a JSON number is accepted too), checked with a
# message written for the model; the pattern is also advertised in the schema.
AmountText = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_amount_text),
    WithJsonSchema({"type": ["string", "number"], "pattern": AMOUNT_PATTERN}),
]


class Money(BaseModel):
    """An amount as tool outputs give it: a decimal string with its currency, never a float."""

    amount: str = Field(
        description="Decimal string with the currency's digits, e.g. '1234.50'; negative = refund."
    )
    currency: str = Field(description="ISO 4217 code.")


def money(minor: int, currency: str) -> Money:
    return Money(amount=format_amount(minor, currency), currency=currency)


def grouped(amount: str) -> str:
    """1234567.5 → 1,234,567.50 (for text only; structured amounts have no separators)."""
    return f"{Decimal(amount):,}"
