"""Where Acme's people work and travel to, and the fairs and conferences they go to.

The currency of a charge follows the place it happens in, which is what gives the demo its natural
EUR/GBP/USD mix: London staff and trips spend pounds, US trips and US-billed SaaS spend dollars.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.demo.merchants import read_data
from server.demo.model import City, Merchant

CITIES: dict[str, City] = {
    c.code: c
    for c in (
        City("MUC", "Munich", "DE", "EUR", 165),
        City("BER", "Berlin", "DE", "EUR", 140),
        City("HAM", "Hamburg", "DE", "EUR", 150),
        City("FRA", "Frankfurt", "DE", "EUR", 160),
        City("STR", "Stuttgart", "DE", "EUR", 135),
        City("NUE", "Nuremberg", "DE", "EUR", 150),
        City("HAJ", "Hanover", "DE", "EUR", 175),
        City("CGN", "Cologne", "DE", "EUR", 140),
        City("PAR", "Paris", "FR", "EUR", 220),
        City("AMS", "Amsterdam", "NL", "EUR", 210),
        City("VIE", "Vienna", "AT", "EUR", 150),
        City("MIL", "Milan", "IT", "EUR", 180),
        City("BCN", "Barcelona", "ES", "EUR", 170),
        City("LIS", "Lisbon", "PT", "EUR", 150),
        City("DUB", "Dublin", "IE", "EUR", 200),
        City("LON", "London", "GB", "GBP", 230),
        City("MAN", "Manchester", "GB", "GBP", 130),
        City("NYC", "New York", "US", "USD", 320),
        City("SFO", "San Francisco", "US", "USD", 300),
        City("BOS", "Boston", "US", "USD", 280),
        City("SJC", "San Jose", "US", "USD", 240),
        City("CHI", "Chicago", "US", "USD", 230),
        City("DTW", "Detroit", "US", "USD", 170),
    )
}

EURO_COUNTRIES = frozenset({"DE", "FR", "NL", "AT", "IT", "ES", "PT", "IE"})
# Within Germany (and to Vienna) people mostly take the train; elsewhere they fly.
RAIL_COUNTRIES = frozenset({"DE"})


@dataclass(frozen=True, slots=True)
class Conference:
    name: str
    month: int
    day: int
    days: int
    city: str
    ticket: Merchant
    audience: tuple[str, ...]  # team profiles that send people
    popularity: float  # chance a person of that audience goes, per edition
    booth: bool = False  # Marketing books a stand (a large invoice months ahead)


def _load() -> tuple[Conference, ...]:
    """`data/conferences.csv`: the organiser's statement line is what tickets and stands show."""
    conferences = []
    for row in read_data("conferences.csv"):
        ticket = Merchant(
            row["organizer"],
            row["mcc"],
            "CONFERENCES",
            ("conference",),
            float(row["ticket_eur"]),
            0.25,
            (row["descriptor"],),
            currency=row["currency"] or None,
        )
        conferences.append(
            Conference(
                row["name"],
                int(row["month"]),
                int(row["day"]),
                int(row["days"]),
                row["city"],
                ticket,
                tuple(row["audience"].split()),
                float(row["popularity"]),
                row["booth"] == "yes",
            )
        )
    return tuple(conferences)


# Trade fairs cluster in March and October, which is where the demo's conference bursts come from.
CONFERENCES: tuple[Conference, ...] = _load()
