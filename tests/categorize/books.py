"""Small, deterministic categorized histories for the categorizer's unit tests (no database)."""

from __future__ import annotations

import datetime as dt
import random

from tools.categorize.features import ExpenseFacts
from tools.categorize.learn import Example
from tools.categorize.pipeline import Company, Thresholds

START = dt.date(2026, 1, 1)
THRESHOLDS = Thresholds(review=0.8, auto_apply=0.95)
MCC_CATEGORIES = {"4121": ["TAXI"], "4511": ["AIR"], "5812": ["MEALS", "CLIENT"], "5942": ["BOOKS"]}
CODES = frozenset({"TAXI", "AIR", "MEALS", "CLIENT", "HARDWARE", "OFFICE", "BOOKS"})
# (descriptor, merchant, mcc, what it is booked as, memos that go with it)
SHOPS = [
    ("UBER *TRIP HELP.UBER.COM", "Uber", "4121", "TAXI", ["", "Taxi to airport"]),
    ("BOLT.EU/O/2204", "Bolt", "4121", "TAXI", [""]),
    ("LUFTHANSA 2201234", "Lufthansa", "4511", "AIR", ["", "Flight to Paris"]),
    ("PRET A MANGER #12", "Pret", "5812", "MEALS", ["", "Lunch"]),
    ("L OSTERIA MUENCHEN", "L'Osteria", "5812", "CLIENT", ["Dinner with Siemens", "Client dinner"]),
    ("AMAZON MKTPLACE", "Amazon", "5942", "HARDWARE", ["USB-C dock", "Monitor"]),
    ("AMAZON MKTPLACE", "Amazon", "5942", "OFFICE", ["Printer paper", "Post-its"]),
    ("THALIA BUCHHANDLUNG", "Thalia", "5942", "BOOKS", ["Book: Clean Architecture", ""]),
]


def examples(days: int = 120, per_day: int = 4, seed: int = 1) -> list[Example]:
    rng = random.Random(seed)
    found = []
    for day in range(days):
        for n in range(per_day):
            descriptor, merchant, mcc, code, memos = rng.choice(SHOPS)
            amount = round(rng.uniform(60, 200) if code == "CLIENT" else rng.uniform(5, 40), 2)
            facts = ExpenseFacts(descriptor, merchant, mcc, rng.choice(memos) or None, amount, "Sales")
            found.append(Example(facts, code, START + dt.timedelta(days=day), f"EXP-{day:03d}-{n}"))
    return found


def company(rules: dict[str, str] | None = None) -> Company:
    return Company(CODES, rules or {}, MCC_CATEGORIES, THRESHOLDS)
