"""What the demo plants for `review_expenses`, after the company is written, and its answer key.

A post-pass over the written folder, with a random stream of its own (`rng_for(seed, "review")`): it
only appends expenses (refs numbered on from the last one) and writes `expense_policy.json` and the
answer key `review_answers.csv`, so every other file, and every row written before it, is the same
bytes as without it: the categorizer's, the forecasts' and the approvals' evals see the company they
always saw, plus a few hundred rows.

Each rule and pattern gets `RATE_PER_10K` cases per 10,000 written expenses (at least `MIN_CASES`),
each built from a real expense of the company (its person, team and day) so that it sits in the
books like any other. The key then holds every case the definitions match in the whole folder
(`review_key.find_cases`): the planted ones and the ones the company had anyway, marked `natural`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.demo.fx import COMPANY_CURRENCY, FX_TO_EUR, to_company_minor
from server.demo.labels import BACKLOG_DAYS
from server.demo.review_key import Case, Row, Threshold, approval_thresholds, cents, find_cases
from server.demo.review_policy import ALCOHOL, BLOCKED_MCCS, EXPENSE_POLICY, WEEKEND_CATEGORIES
from server.demo.timeline import rng_for
from server.demo.writer import HEADERS, money, receipt_id
from server.kit.expense_policy import ExpensePolicy
from server.kit.merchants import merchant_key

POLICY_FILE = "expense_policy.json"
COUNTRY = "DE"  # the demo company's (generator.COUNTRY): its holidays
ANSWERS = "review_answers.csv"
ANSWER_COLUMNS = ("case", "kind", "rule", "expenses", "origin")
RATE_PER_10K = 5  # per rule and pattern: ~30 each in the default demo, ~1.5% of its spend
MIN_CASES = 6
MAX_KEYED = 300_000
TRIES = 1000  # draws of a template before a maker gives up (a small company may have none that fits)
_BOUGHT = ("HARDWARE", "OFFICE", "TRAINING", "PROTOTYPING")
_ROUNDED = ("OFFICE", "SHIPPING", "TRAINING")
CURRENCY_OF = {"GB": "GBP", "US": "USD"}
Raw = dict[str, str]


@dataclass(frozen=True, slots=True)
class Planted:
    """The summary of a post-pass: rows appended, and the key's cases by origin."""

    expenses: int
    injected: int
    natural: int


@dataclass
class _Books:
    """The written expenses, and what the injection adds to them."""

    rows: list[Raw]
    rng: random.Random
    last: dt.date  # the last day planted on: the categorized books, before the backlog
    first: dt.date
    added: list[Raw] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    by_category: dict[str, list[Raw]] = field(default_factory=lambda: defaultdict(list))
    monthly: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    largest: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # per merchant
    largest_of: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))  # per person
    sums: dict[tuple[str, ...], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    merchants: set[str] = field(default_factory=set)  # merchant keys
    spiked: set[str] = field(default_factory=set)  # one planted spike per person
    rounded: set[tuple[str, str]] = field(default_factory=set)  # one planted run per person and merchant
    copied: set[str] = field(default_factory=set)  # expenses planted a duplicate of
    thresholds: list[Threshold] = field(default_factory=list)  # the approval policy's

    def __post_init__(self) -> None:
        for row in self.rows:
            if row["amount"][0] != "-" and row["date"] <= self.last.isoformat():
                self.by_category[row["category_code"]].append(row)
                self.monthly[(row["employee_email"], row["category_code"], row["date"][:7])] += 1
                self.monthly[(row["merchant"], "", row["date"][:7])] += 1
                minor = cents(row["amount_company"] or row["amount"])
                self.largest[row["merchant"]] = max(self.largest[row["merchant"]], minor)
                who = (row["employee_email"], row["category_code"])
                self.largest_of[who] = max(self.largest_of[who], minor)
                for key in (
                    ("person", *who),
                    ("team", row["team"], row["category_code"]),
                    ("merchant", row["merchant"]),
                ):
                    self.sums[key][0] += minor
                    self.sums[key][1] += 1
            self.merchants.add(merchant_key(row["merchant"]))

    def template(self, *categories: str) -> Raw:
        """A charge of one of `categories` (of those the company has), at random."""
        had = [category for category in categories if self.by_category[category]]
        return self.rng.choice(self.by_category[self.rng.choice(had)])

    def find(self, categories: tuple[str, ...], fits: Callable[[Raw], bool]) -> Raw | None:
        """A charge of `categories` that `fits`, or None when `TRIES` draws found none (a small company)."""
        for _ in range(TRIES):
            like = self.template(*categories)
            if fits(like):
                return like
        return None

    def add(self, like: Raw, **values: Any) -> Raw:
        """A new expense of `like`'s person and team: the same row with `values` replaced."""
        row = dict(like)
        number = len(self.rows) + len(self.added) + 1
        row.update(id=f"EXP-{number:06d}", memo="", receipt="true", country="DE")
        row.update(currency=COMPANY_CURRENCY, amount_company="")  # amounts below are in EUR
        row.update({key: str(value) for key, value in values.items()})
        row["receipt_id"] = receipt_id(row["id"]) if row["receipt"] == "true" else ""
        self.added.append(row)
        minor = cents(row["amount_company"] or row["amount"])
        self.largest[row["merchant"]] = max(self.largest[row["merchant"]], minor)
        return row

    def mean(self, key: tuple[str, ...]) -> float:
        total, count = self.sums[key]
        return total / count if count else 0.0

    def rides_before(self, like: Raw) -> int:
        """The fewer of `like`'s person's charges in its category and its merchant's charges, over the
        12 months before its month (a spike needs both histories)."""
        year, month = int(like["date"][:4]), int(like["date"][5:7])
        months = [
            f"{(year * 12 + month - 1 - back) // 12}-{(month - 1 - back) % 12 + 1:02d}"
            for back in range(1, 13)
        ]
        own = sum(self.monthly[(like["employee_email"], like["category_code"], m)] for m in months)
        return min(own, sum(self.monthly[(like["merchant"], "", m)] for m in months))

    def day_near(self, like: Raw, shift: int = 0) -> dt.date:
        day = dt.date.fromisoformat(like["date"]) + dt.timedelta(days=shift)
        return min(self.last, max(self.first, day))

    def plant(self, kind: str, rule: str | None, *rows: Raw) -> None:
        self.cases.append(Case(kind, rule, tuple(row["id"] for row in rows)))


def plant_review_cases(folder: Path, seed: int, first: dt.date, today: dt.date, written: int) -> Planted:
    """Append the planted expenses to `folder`'s expenses.csv (`written` rows so far) and write the
    policy and the key. A company larger than `MAX_KEYED` (the benchmarks' 1.7 million expenses) gets
    the policy only: its key would take minutes and gigabytes, and nothing scores it."""
    (folder / POLICY_FILE).write_text(json.dumps(EXPENSE_POLICY, indent=2) + "\n", encoding="utf-8")
    if written > MAX_KEYED:
        return Planted(0, 0, 0)
    rows = _read(folder / "expenses.csv")
    last = today - dt.timedelta(days=BACKLOG_DAYS)  # the backlog is uncategorized: no category rules
    books = _Books(rows, rng_for(seed, "review"), last, first)
    books.thresholds = approval_thresholds(_approval_policy(folder))
    count = max(MIN_CASES, round(len(rows) * RATE_PER_10K / 10_000))
    for make in _MAKERS:
        for _ in range(count):
            make(books)
    found = _matched(folder, rows, books)
    _append(folder / "expenses.csv", books.added)
    _append_categories(folder / "answer_key.csv", books.added)
    origins = [_origin(case, books.cases) for case in found]
    _write_key(folder / ANSWERS, found, origins)
    injected = origins.count("injected")
    return Planted(len(books.added), injected, len(found) - injected)


def _matched(folder: Path, rows: list[Raw], books: _Books) -> list[Case]:
    """The key's cases, once the planted cases the definitions do not match are left out (with their
    rows): in a small company a case may lack the history it needs (a spike's, beside another's)."""
    found = key_cases(folder, [*rows, *books.added])
    missing = [case for case in books.cases if not any(covers(f, case) for f in found)]
    if not missing:
        return found
    dropped = {ref for case in missing for ref in case.refs}
    books.added = [row for row in books.added if row["id"] not in dropped]
    books.cases = [case for case in books.cases if case not in missing]
    found = key_cases(folder, [*rows, *books.added])
    if any(not any(covers(f, case) for f in found) for case in books.cases):
        raise AssertionError("leaving out unmatched planted cases unmatched others")  # a bug here
    return found


def covers(finding: Case, case: Case) -> bool:
    """The same rule (or pattern) about at least one of the same expenses."""
    return finding.label == case.label and not set(finding.refs).isdisjoint(case.refs)


def _origin(case: Case, planted: list[Case]) -> str:
    return "injected" if any(covers(case, p) for p in planted) else "natural"


def key_cases(folder: Path, rows: list[Raw]) -> list[Case]:
    """Every case of the demo policy in `rows`, with the approval policy's thresholds of `folder`."""
    policy = ExpensePolicy.model_validate(EXPENSE_POLICY)
    thresholds = approval_thresholds(_approval_policy(folder))
    return find_cases([Row.of(order, row) for order, row in enumerate(rows)], policy, thresholds, COUNTRY)


def _approval_policy(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / "approval_policy.json").read_text(encoding="utf-8"))
    return document


def read_key(path: Path) -> list[tuple[str, Case]]:
    """review_answers.csv: (origin, case) per row."""
    return [
        (row["origin"], Case(row["kind"], row["rule"] or None, tuple(row["expenses"].split())))
        for row in _read(path)
    ]


def _read(path: Path) -> list[Raw]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _append(path: Path, rows: list[Raw]) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([row[column] for column in HEADERS["expenses.csv"]] for row in rows)


def _append_categories(path: Path, rows: list[Raw]) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows((row["id"], row["category_code"]) for row in rows)


def _write_key(path: Path, cases: list[Case], origins: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ANSWER_COLUMNS)
        for number, (case, origin) in enumerate(zip(cases, origins, strict=True), 1):
            writer.writerow((f"R{number:05d}", case.kind, case.rule or "", " ".join(case.refs), origin))


def _eur(value: float) -> str:
    return money(round(value * 100), COMPANY_CURRENCY)


def _abroad(books: _Books, like: Raw, eur: float, country: str) -> dict[str, str]:
    """Amount columns of a charge of `eur` spent in `country` (its own currency where it has one)."""
    currency = CURRENCY_OF.get(country, COMPANY_CURRENCY)
    if currency == COMPANY_CURRENCY:
        return {"amount": _eur(eur), "currency": currency, "amount_company": "", "country": country}
    local = round(eur / float(FX_TO_EUR[currency]) * 100)
    company = money(to_company_minor(local, currency), COMPANY_CURRENCY)
    return {
        "amount": money(local, currency),
        "currency": currency,
        "amount_company": company,
        "country": country,
    }


def _receipt(books: _Books) -> None:
    like = books.template("HARDWARE", "OFFICE", "PROTOTYPING", "TRAINING")
    row = books.add(like, amount=_eur(books.rng.uniform(180, 900)), receipt="false", memo="receipt to follow")
    books.plant("receipt_required", "receipt-over-150", row)


def _meal_cap(books: _Books) -> None:
    like = books.template("MEALS")
    country = books.rng.choice(["DE", "DE", "FR", "GB", "US"])
    cap = {"GB": 90, "US": 100}.get(country, 75)
    amounts = _abroad(books, like, cap * books.rng.uniform(1.3, 1.8), country)
    row = books.add(like, **amounts, memo="dinner with the team")
    books.plant("cap", "meals-per-expense", row)


def _meal_day(books: _Books) -> None:
    """Three meals of a day, each within the per-expense cap, over the highest day cap together."""
    like = books.template("MEALS")
    day = books.day_near(like)
    meals = [("breakfast", 45, 55), ("lunch", 68, 74), ("dinner", 68, 74)]
    rows = [
        books.add(like, date=day, amount=_eur(books.rng.uniform(low, high)), memo=memo)
        for memo, low, high in meals
    ]
    books.plant("cap", "meals-per-day", *rows[::-1])


def _hotel(books: _Books) -> None:
    like = books.template("TRAVEL-HOTEL")
    country = like["country"] or "DE"
    cap = {"GB": 1200, "US": 1300, "CH": 1200}.get(country, 1000)
    amounts = _abroad(books, like, cap * books.rng.uniform(1.1, 1.3), country)
    row = books.add(like, **amounts, memo="conference week")
    books.plant("cap", "lodging-per-stay", row)


_BLOCKED = {"6011": "ATM WITHDRAWAL {n}", "6010": "BANK CASH ADVANCE {n}", "7995": "TIPICO SPORTWETTEN {n}"}


def _blocked(books: _Books) -> None:
    like = books.template("MISC", "MEALS", "TRAVEL-GROUND")
    mcc = books.rng.choice(sorted(set(_BLOCKED) & set(BLOCKED_MCCS)))
    name = {"6011": "ATM", "6010": "Cash advance", "7995": "Tipico"}[mcc]
    descriptor = _BLOCKED[mcc].format(n=books.rng.randint(10000, 99999))
    amount = _eur(books.rng.choice([50, 100, 150, 200, 250]) + books.rng.randint(1, 99) / 100)
    row = books.add(like, descriptor=descriptor, merchant=name, mcc=mcc, amount=amount, category_code="MISC")
    books.plant("blocked", "no-cash-or-gambling", row)


def _weekend(books: _Books) -> None:
    like = books.template(*WEEKEND_CATEGORIES)
    day = books.day_near(like)
    day -= dt.timedelta(days=(day.weekday() - 5) % 7)  # the Saturday before (or the day itself)
    if day < books.first:
        day += dt.timedelta(days=7)
    amount = _eur(books.rng.uniform(20, 140))
    row = books.add(like, date=day, amount=amount, memo="")
    books.plant("weekend_spend", "no-weekend-office-spend", row)


def _alcohol(books: _Books) -> None:
    like = books.template("MEALS-CLIENT", "TEAM-EVENTS")
    word = books.rng.choice(ALCOHOL)
    row = books.add(like, amount=_eur(books.rng.uniform(25, 70)), memo=f"{word} for the table")
    books.plant("keywords", "alcohol", row)


def _just_below(books: _Books) -> None:
    """A card purchase a little under the approval policy's lowest threshold (IT's 1,500 EUR for
    hardware where the policy has it, else 5,000 EUR)."""
    lowest = min(books.thresholds, key=lambda t: t.minor)
    like = books.template(*(sorted(lowest.categories) if lowest.categories else _BOUGHT))
    amount = (lowest.minor - 1) / 100 * books.rng.uniform(0.96, 0.995)
    row = books.add(like, amount=_eur(amount), payment_type="card")
    books.plant("just_below_threshold", "just-below-approval", row)


def _duplicate(books: _Books) -> None:
    """A purchase charged (or claimed) twice by the same person, a day or two apart."""
    like = books.find(
        _BOUGHT,
        lambda row: cents(row["amount_company"] or row["amount"]) >= 3_000 and row["id"] not in books.copied,
    )
    if like is None:
        return
    books.copied.add(like["id"])
    day = books.day_near(like, books.rng.randint(1, 2))
    if books.rng.random() < 0.5:  # the same charge twice
        same = {key: like[key] for key in ("amount", "currency", "amount_company", "memo", "country")}
        row = books.add(like, date=day, receipt="false", **same)
    elif like["receipt_id"]:  # one receipt claimed again, typed in by hand
        amount = _eur(cents(like["amount_company"] or like["amount"]) / 100 + books.rng.uniform(1, 9))
        row = books.add(like, date=day, amount=amount)
        row["receipt_id"] = like["receipt_id"]
    else:
        return  # its original has no receipt: nothing to claim twice
    books.plant("duplicate", None, row, like)


def _split(books: _Books) -> None:
    """One purchase paid in two or three parts over as many days, each under the card limit (1,000 EUR),
    over it together."""
    like = books.template("HARDWARE", "PROTOTYPING", "OFFICE")
    day, parts = books.day_near(like), books.rng.randint(2, 3)
    total = 1000 * books.rng.uniform(1.05, 1.25)
    rows = [
        books.add(like, date=day + dt.timedelta(days=i), amount=_eur(total / parts + i * 3.17), memo="")
        for i in range(parts)
    ]
    if dt.date.fromisoformat(rows[-1]["date"]) > books.last:
        for row in rows:
            row["date"] = (dt.date.fromisoformat(row["date"]) - dt.timedelta(days=parts)).isoformat()
    books.plant("split_purchase", None, *rows)


def _spike(books: _Books) -> None:
    """A taxi bill of a car hire's size, from someone with a year of ordinary taxi rides behind it."""
    like = books.find(
        ("TRAVEL-GROUND",),
        lambda row: books.rides_before(row) >= 10 and row["employee_email"] not in books.spiked,
    )
    if like is None:
        return
    who = (like["employee_email"], "TRAVEL-GROUND")
    books.spiked.add(like["employee_email"])
    amount = max(books.rng.uniform(400, 600), books.largest_of[who] / 100 * books.rng.uniform(1.2, 1.5))
    usual = [("person", *who), ("team", like["team"], "TRAVEL-GROUND"), ("merchant", like["merchant"])]
    amount = max(amount, *(books.mean(key) / 100 * 15 for key in usual))  # over 10 x each mean, with room
    books.largest_of[who] = round(amount * 100)
    row = books.add(like, amount=_eur(amount), memo="")
    books.plant("spike", None, row)


_SYLLABLES = ("ka", "ven", "tor", "lis", "mar", "do", "rex", "sol", "ber", "tan", "nik", "ora", "fel", "gu")
_TRADES = ("Messtechnik", "Consulting", "Electronics", "Werkzeuge", "Solutions", "Analytics", "Design")


def _new_merchant(books: _Books) -> None:
    """A supplier the company never used, with a big first invoice paid by card."""
    like = books.template("PROTOTYPING", "PROFESSIONAL-SERVICES")
    name = ""
    while not name or merchant_key(name) in books.merchants:
        word = "".join(books.rng.choices(_SYLLABLES, k=3)).capitalize()
        name = f"{word} {books.rng.choice(_TRADES)} GmbH"
    books.merchants.add(merchant_key(name))
    amount = _eur(books.rng.uniform(1050, 1500))
    row = books.add(like, merchant=name, descriptor=name.upper()[:22], mcc="7392", amount=amount)
    books.plant("new_merchant", None, row)


def _round_run(books: _Books) -> None:
    """Three round amounts a week apart at one merchant, by someone with no other run there."""
    like = books.find(_ROUNDED, lambda row: (row["employee_email"], row["merchant"]) not in books.rounded)
    if like is None:
        return
    books.rounded.add((like["employee_email"], like["merchant"]))
    amounts = books.rng.sample([100, 150, 200, 250, 300, 350, 400], 3)
    rows = [
        books.add(like, date=books.day_near(like, 7 * i), amount=_eur(value), memo="")
        for i, value in enumerate(amounts)
    ]
    books.plant("round_numbers", None, *rows)


def _refund(books: _Books) -> None:
    """A credit from a taxi company or a cafe that never charged anything near its size."""
    like = books.find(("MEALS", "TRAVEL-GROUND"), lambda row: books.largest[row["merchant"]] < 30_000)
    if like is None:
        return
    amount = _eur(-books.rng.uniform(300, 600))
    row = books.add(like, amount=amount, memo="refund", receipt="false")
    books.plant("refund_without_charge", None, row)


_MAKERS: tuple[Callable[[_Books], None], ...] = (
    _receipt,
    _meal_cap,
    _meal_day,
    _hotel,
    _blocked,
    _weekend,
    _alcohol,
    _just_below,
    _duplicate,
    _split,
    _spike,
    _new_merchant,
    _round_run,
    _refund,
)
