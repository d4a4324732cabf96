"""The first, simple rule that derives a merchant name from a card-statement descriptor."""

from __future__ import annotations

import pytest

from server.importer import normalize_merchant


@pytest.mark.parametrize(
    ("descriptor", "merchant"),
    [
        ("UBER *TRIP HELP.UBER.COM", "UBER"),
        ("PAYPAL *SPOTIFY 35314369001", "SPOTIFY"),
        ("SQ *BLUE BOTTLE COFFEE", "BLUE BOTTLE COFFEE"),
        ("TST* JOE'S PIZZA", "JOE'S PIZZA"),
        ("SP * ALLBIRDS", "ALLBIRDS"),
        ("AMZN MKTP US*2K4LL1", "AMZN MKTP US"),
        ("STARBUCKS STORE #1234", "STARBUCKS"),
        ("DELTA AIR 0062345678901", "DELTA AIR"),
        ("Zoom.us 888-799-9666", "ZOOM.US"),
        ("  github.com/billing  ", "GITHUB.COM/BILLING"),
        ("SHELL 1234 LONDON", "SHELL 1234 LONDON"),  # only trailing numbers go
        ("SPOTIFY P0A1B2C3", "SPOTIFY"),  # ids with digits go too
        ("SQ *", "SQ *"),  # nothing left: the cleaned descriptor
        ("12345", "12345"),
    ],
)
def test_normalize_merchant(descriptor: str, merchant: str) -> None:
    assert normalize_merchant(descriptor) == merchant
