"""The merchants Acme's people pay: real brands with their real MCCs and statement descriptors.

The catalogue is data, kept in `data/merchants.csv`, one merchant per line:

    name         the clean merchant name (what a normalizer should arrive at)
    mcc          ISO 18245 merchant category code, as the card scheme reports it
    category     what a careful bookkeeper books a typical charge there as
    slots        the kinds of spending it serves (meal, ground, air, hotel, components, ...)
    median_eur   typical charge in EUR, amounts are lognormal around it with spread `sigma`;
                 for hotels it is one night where a typical night costs 150 EUR (`travel` scales it)
    where        `*` anywhere, else country or city codes where it exists ("DE AT", "MUC")
    currency     the currency it bills in wherever you are (US SaaS bills USD); empty: local currency
    weight       how often it is picked among the merchants of a slot
    refundable   `yes` when cancellations and returns happen (travel, retail)
    descriptors  `|`-separated statement templates, the first the most common (see `descriptors`)

Some brands appear on several lines with different categories (Amazon sells office supplies, hardware,
books and lab parts under the same descriptors), which is what makes categorizing from the descriptor
alone hard. Airlines print the carrier and the ticket number, which starts with the carrier's
three-digit IATA accounting code (Lufthansa 220, British Airways 125).
"""

from __future__ import annotations

import csv
from importlib import resources

from server.demo.model import Merchant


def make_merchant(
    name: str,
    mcc: str,
    category: str,
    slots: str,
    median: float,
    sigma: float,
    descriptors: str,
    where: str = "*",
    currency: str | None = None,
    weight: float = 1.0,
    refundable: bool = False,
) -> Merchant:
    return Merchant(
        name,
        mcc,
        category,
        tuple(slots.split()),
        median,
        sigma,
        tuple(descriptors.split("|")),
        where,
        currency,
        weight,
        refundable,
    )


def read_data(name: str) -> list[dict[str, str]]:
    """A CSV file shipped in `server/demo/data/`."""
    text = (resources.files(__package__) / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _load() -> tuple[Merchant, ...]:
    return tuple(
        make_merchant(
            row["name"],
            row["mcc"],
            row["category"],
            row["slots"],
            float(row["median_eur"]),
            float(row["sigma"]),
            row["descriptors"],
            row["where"],
            row["currency"] or None,
            float(row["weight"]),
            row["refundable"] == "yes",
        )
        for row in read_data("merchants.csv")
    )


MERCHANTS: tuple[Merchant, ...] = _load()
