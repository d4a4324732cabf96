"""What the categorizer reads from a statement line: one merchant key per merchant, and the tokens."""

from __future__ import annotations

import pytest

from server.kit.merchants import merchant_key
from tools.categorize.features import ExpenseFacts, amount_band, descriptor_words, tokens


@pytest.mark.parametrize(
    ("descriptor", "key"),
    [
        ("PAYPAL *SPOTIFY 35314369001", "SPOTIFY"),  # payment processor, transaction id
        ("SQ *BLUE BOTTLE #12 SAN FRANCISCO CA", "BLUEBOTTLE"),  # store number, city and state
        ("Starbucks Store 1234 London GB", "STARBUCKS"),
        ("STARBUCKS", "STARBUCKS"),
        ("UBER   *TRIP HELP.UBER.COM", "UBER"),
        ("Uber", "UBER"),  # a clean name from the books and a raw descriptor meet
        ("B & Q 1371", "BQ"),
        ("B&Q PLC", "BQ"),  # legal form
        ("TESCO STORE 2617", "TESCO"),
        ("TESCO-STORES 6737", "TESCO"),
        ("ZETTLE_*CURRY 36 GMBH", "CURRY"),
        ("DD *DOORDASH 2K4L83", "DOORDASH"),
        ("AMAZON.CO.UK", "AMAZON"),
        ("VAPIANO FRANKFURT", "VAPIANO"),
        ("12345", "12345"),  # nothing but a number: kept as it is
    ],
)
def test_merchant_key_is_one_spelling_per_merchant(descriptor: str, key: str) -> None:
    assert merchant_key(descriptor) == key


def test_descriptor_words_drop_processors_numbers_legal_forms_and_trailing_places() -> None:
    assert descriptor_words("PAYPAL *ADOBE SYSTEMS LTD 35314369001 DUBLIN IE") == ("ADOBE", "SYSTEMS")
    assert descriptor_words("SUMUP *CAFE FRISCHHUT") == ("CAFE", "FRISCHHUT")


def test_tokens_carry_merchant_text_memo_mcc_amount_and_team() -> None:
    facts = ExpenseFacts(
        descriptor="HOTEL ADLON BERLIN", mcc="7011", memo="Hotel for trade fair", amount=-240.0, team="Sales"
    )

    found = set(tokens(facts, "HOTELADLON", {"7011": ["TRAVEL-HOTEL"]}))

    assert {"m:HOTELADLON", "w:hotel", "w:adlon", "g:hote", "u:trade", "v:trade_fair"} <= found
    assert {"c:7011", "d:hotels", "k:TRAVEL-HOTEL", "refund", f"a:{amount_band(240.0)}", "t:Sales"} <= found
    assert "nomemo" not in found
    assert "w:berlin" not in found  # a place says nothing about what was bought


def test_an_expense_without_memo_or_mcc_still_has_tokens() -> None:
    found = tokens(ExpenseFacts(descriptor="ACME"), "ACME", {})

    assert "nomemo" in found
    assert not [t for t in found if t.startswith(("c:", "d:", "k:", "t:"))]
