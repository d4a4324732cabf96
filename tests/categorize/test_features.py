"""What the categorizer reads from a statement line: one merchant key per merchant, and the tokens."""

from __future__ import annotations

import pytest

from server.kit.merchants import merchant_key
from tools.categorize.features import TABLES, ExpenseFacts, amount_band, descriptor_words, tokens


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


def test_tokens_carry_merchant_text_memo_mcc_amount_teams_and_dimensions() -> None:
    facts = ExpenseFacts(
        descriptor="HOTEL ADLON BERLIN",
        mcc="7011",
        memo="Hotel for trade fair",
        amount=-240.0,
        team="Sales DACH",
        parents=("Sales", "Company"),
        cost_center="RV12N",
        project="FAIR-26",
        dims=(("fund", "GF01"),),
    )

    found = set(tokens(facts, {"7011": ["TRAVEL-HOTEL"]}))

    assert {"m:HOTELADLON", "s:hotel adlon berlin", "w:hotel", "w:adlon", "w0:hotel", "g:hote"} <= found
    assert {"u:trade", "v:trade_fair", "c:7011", "d:hotels", "k:TRAVEL-HOTEL", "refund"} <= found
    assert {f"a:{amount_band(240.0)}", "t0:Sales DACH", "t1:Sales", "t2:Company"} <= found
    assert {"cc:RV12N", "cc1:R", "cc2:RV", "cc3:RV1", "j:FAIR-26", "f:fund=GF01"} <= found
    assert "w:berlin" not in found  # a place says nothing about what was bought


def test_an_expense_without_memo_mcc_or_dimensions_has_descriptor_and_amount_tokens() -> None:
    found = tokens(ExpenseFacts(descriptor="ACME"), {})

    assert {"m:ACME", "s:acme", "w:acme", "a:0"} <= set(found)
    assert not [t for t in found if t.startswith(("c:", "d:", "k:", "t0:", "cc:", "j:", "f:", "u:"))]


def test_history_keys_pool_a_merchant_with_its_cost_centre_team_and_parent_team() -> None:
    facts = ExpenseFacts(
        "SHELL KINGS 587", merchant="SHELL KINGS", team="Fleet", parents=("Ops",), cost_center="RV12N"
    )

    keys = {name: key_of(facts) for name, key_of in TABLES.items()}

    assert keys["key"] == "SHELLKINGS"
    assert (keys["key_cc"], keys["key_team"], keys["key_parent"]) == (
        "SHELLKINGS|RV12N",
        "SHELLKINGS|Fleet",
        "SHELLKINGS|Ops",
    )
    assert (keys["key_project"], keys["mcc"], keys["team_mcc"]) == ("", "", "")
