"""Amount arguments: decimal text, or a JSON number converted exactly; never a float in arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from server.kit.money import AmountText, format_amount, to_decimal, to_minor

AMOUNT = TypeAdapter(AmountText)


@pytest.mark.parametrize(
    ("sent", "text"), [("23.40", "23.40"), (23.4, "23.4"), (1234, "1234"), (0.1, "0.1"), (" 7 ", "7")]
)
def test_amounts_arrive_as_exact_decimal_text(sent: object, text: str) -> None:
    assert AMOUNT.validate_python(sent) == text
    assert Decimal(AMOUNT.validate_python(sent)) == Decimal(text)


@pytest.mark.parametrize("sent", ["12,50", "1e3", 1e-7, True, "", "ten"])
def test_anything_else_is_refused_with_a_message_for_the_model(sent: object) -> None:
    with pytest.raises(ValidationError, match=r"decimal amount|valid string"):
        AMOUNT.validate_python(sent)


def test_minor_units_round_trip_exactly() -> None:
    assert to_minor("0.10", "EUR") + to_minor("0.20", "EUR") == to_minor("0.30", "EUR") == 30
    assert format_amount(-1250, "EUR") == "-12.50"
    assert format_amount(1250, "JPY") == "1250"


@pytest.mark.parametrize("currency", ["EUR", "JPY", "BHD", "CLF"])
@pytest.mark.parametrize("minor", [0, 1, -1, 7, -7, 99, -100, 123456, -123456789012, 10**15 + 3])
def test_amount_text_is_the_decimal_with_the_currencys_digits(minor: int, currency: str) -> None:
    assert format_amount(minor, currency) == str(to_decimal(minor, currency))
