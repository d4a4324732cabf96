"""A company whose teams' spend has known structure: the budget forecast's test bench.

    python -m evals.datasets.synthetic OUT --today 2026-07-20
    outlay import OUT

One team per shape a forecaster meets: `Steady` (a flat level, a monthly SaaS subscription and a yearly
licence), `Trend` (+4% a month, budgeted at last year's level, so it overruns), `Seasonal` (December at
40% of the level, March and October at 150%), `Shift` (spend doubles from 8 months before today, budgeted
at the old level), `Sparse` (a large purchase in some quarters, most months empty) and `Newcomer` (spend
from 4 months before today). Everything follows from `today`, `months` and `seed`; the returned
`SyntheticTruth` says what a correct forecast must find. The folder follows docs/data-format.md.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

CURRENCY = "EUR"
TEAMS = ("Steady", "Trend", "Seasonal", "Shift", "Sparse", "Newcomer")
# Monthly variable spend in EUR (times 0.8-1.25 by seed): Trend's today, Shift's before the shift.
LEVELS = {"Steady": 20_000, "Trend": 30_000, "Seasonal": 25_000, "Shift": 15_000, "Newcomer": 12_000}
GROWTH = 0.04  # Trend, per month
SEASON = {1: 0.8, 2: 0.9, 3: 1.5, 4: 1.0, 5: 1.0, 6: 1.1, 7: 0.9, 8: 0.8, 9: 1.1, 10: 1.5, 11: 1.2, 12: 0.4}
SPARSE_PURCHASE = (2_000_00, 9_000_00)  # in a quarter's first month, three times out of four
BUDGET_FACTOR = {"Steady": 1.3, "Trend": 1.0, "Seasonal": 1.25, "Shift": 1.1, "Sparse": 1.5, "Newcomer": 1.3}
CATEGORIES = (  # code, name, MCCs
    ("SOFTWARE", "Software & SaaS", "5734 7372"), ("TRAVEL", "Travel", "4112 4121 4511 7011"),
    ("MEALS", "Meals", "5812"), ("OFFICE", "Office supplies", "5111"), ("MARKETING", "Marketing", "7311"),
    ("EQUIPMENT", "Equipment", "5045 5732"), ("EVENTS", "Events & trade fairs", "7399"),
)  # fmt: skip
MERCHANTS = {  # name: descriptor, MCC, category
    "Staples": ("STAPLES 1234", "5111", "OFFICE"), "Pret A Manger": ("PRET A MANGER #12", "5812", "MEALS"),
    "Deutsche Bahn": ("DB FERNVERKEHR", "4112", "TRAVEL"), "Google Ads": ("GOOGLE *ADS", "7311", "MARKETING"),
    "Uber": ("UBER *TRIP HELP.UBER.COM", "4121", "TRAVEL"), "AWS": ("AWS EMEA", "7372", "SOFTWARE"),
    "Messe Berlin": ("MESSE BERLIN GMBH", "7399", "EVENTS"), "Dell": ("DELL EMEA", "5045", "EQUIPMENT"),
    "Lufthansa": ("LUFTHANSA 2201234", "4511", "TRAVEL"), "Marriott": ("MARRIOTT HOTELS", "7011", "TRAVEL"),
    "Apple Store": ("APPLE STORE R123", "5732", "EQUIPMENT"), "Figma": ("FIGMA.COM", "5734", "SOFTWARE"),
    "Slack": ("SLACK T0123ABC", "7372", "SOFTWARE"), "JetBrains": ("JETBRAINS S.R.O.", "5734", "SOFTWARE"),
}  # fmt: skip
SHOPS = {
    "Steady": ("Staples", "Pret A Manger", "Deutsche Bahn"), "Trend": ("Google Ads", "Uber", "AWS"),
    "Seasonal": ("Messe Berlin", "Lufthansa", "Marriott"), "Shift": ("Dell", "Staples", "Uber"),
    "Sparse": ("Apple Store", "Messe Berlin", "Dell"), "Newcomer": ("Figma", "Pret A Manger", "Uber"),
}  # fmt: skip
STAFF = ("lead", "alex", "sam", "kim")  # the lead manages the team


@dataclass(frozen=True)
class Charge:
    """One of Steady's recurring charges: `amount` on `day` of every month (or of `month` every year)."""

    merchant: str
    amount: str
    day: int
    month: int | None = None


@dataclass(frozen=True)
class SyntheticTruth:
    slug: str
    today: dt.date
    first_day: dt.date  # of the history
    levels: dict[str, int]  # monthly variable spend, minor units: today (Trend), before the shift (Shift)
    season: dict[int, float]  # Seasonal's month factors
    shift_from: dt.date
    newcomer_from: dt.date
    subscription: Charge  # Steady, SOFTWARE
    licence: Charge  # Steady, SOFTWARE
    known_amount: str  # Steady's approved request without an expense, submitted 10 days before today
    over_budget: frozenset[str]  # teams whose budget running today should overrun
    within_budget: frozenset[str]
    expenses: int = 0

    def monthly(self, team: str, day: dt.date) -> float:
        """Expected variable spend of `team` over the month, at `day`'s rate (minor units)."""
        if team == "Sparse":
            return 0.75 * sum(SPARSE_PURCHASE) / 2 / 3
        level = self.levels[team]
        if team == "Trend":
            return float(level * (1 + GROWTH) ** ((day - self.today).days / 30.44))
        if team == "Seasonal":
            return level * SEASON[day.month]
        if team == "Shift":
            return level * (2 if day >= self.shift_from else 1)
        return level if team != "Newcomer" or day >= self.newcomer_from else 0.0

    def expected(self, team: str, start: dt.date, end: dt.date) -> float:
        """Expected variable spend of `team` from `start` to `end`: spread over weekdays, as drawn."""
        days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
        return sum(self.monthly(team, day) / len(_weekdays(day)) for day in days if day.weekday() < 5)


def write_synthetic_company(
    folder: Path, *, today: dt.date, months: int = 36, seed: int = 11, slug: str = "synthco"
) -> SyntheticTruth:
    rng = random.Random(seed)  # noqa: S311  # reproducible data, not secrets
    truth = SyntheticTruth(
        slug=slug,
        today=today,
        first_day=_add_months(today, -months),
        levels={team: round(level * 100 * rng.uniform(0.8, 1.25)) for team, level in LEVELS.items()},
        season=SEASON,
        shift_from=_add_months(today, -8),
        newcomer_from=_add_months(today, -4),
        subscription=Charge("Slack", money(rng.randrange(800_00, 1500_00)), day=5),
        licence=Charge("JetBrains", money(rng.randrange(6000_00, 9000_00)), day=15, month=3),
        known_amount="1500.00",
        over_budget=frozenset({"Trend", "Shift"}),
        within_budget=frozenset({"Steady", "Seasonal", "Newcomer"}),
    )
    folder.mkdir(parents=True, exist_ok=True)
    expenses = list(_expenses(rng, truth))
    _write(folder, "company.csv", ("slug", "name", "currency"), [(slug, f"Synthetic {seed}", CURRENCY)])
    _write(folder, "teams.csv", ("name", "manager_email"), [(t, _email(slug, t, "lead")) for t in TEAMS])
    _write(folder, "employees.csv", ("email", "name", "team", "role", "approval_limit"), _employees(slug))
    _write(folder, "categories.csv", ("code", "name", "mcc_codes"), CATEGORIES)
    _write(folder, "expenses.csv", EXPENSE_HEADER, expenses)
    _write(folder, "budgets.csv", ("team", "category_code", "period", "amount", "currency"), _budgets(truth))
    _write(folder, "approval_history.csv", HISTORY_HEADER, _requests(truth))
    policy = {"rules": [{"name": "Manager signs everything", "when": {}, "steps": ["team_manager"]}]}
    (folder / "approval_policy.json").write_text(json.dumps(policy, indent=2) + "\n", encoding="utf-8")
    return replace(truth, expenses=len(expenses))


EXPENSE_HEADER = (
    "id", "date", "employee_email", "descriptor", "merchant", "mcc", "amount", "currency", "status",
    "category_code", "receipt",
)  # fmt: skip
Spend = tuple[dt.date, str, str, int]  # day, employee, merchant, amount


def _expenses(rng: random.Random, truth: SyntheticTruth) -> Iterator[tuple[str, ...]]:
    rows = sorted((row for team in TEAMS for row in _team_spend(rng, truth, team)), key=lambda r: r[:2])
    for number, (day, email, merchant, amount) in enumerate(rows, 1):
        descriptor, mcc, code = MERCHANTS[merchant]
        status = "approved" if (truth.today - day).days > 30 else "pending"
        yield (f"SX-{number:06d}", day.isoformat(), email, descriptor, merchant, mcc, money(amount), CURRENCY,
               status, code, "true")  # fmt: skip


def _team_spend(rng: random.Random, truth: SyntheticTruth, team: str) -> Iterator[Spend]:
    """One expense a weekday around the team's expected spend that day (and 5% noise per month)."""
    staff = [_email(truth.slug, team, person) for person in STAFF]
    if team == "Sparse":
        yield from _sparse(rng, truth, staff)
        return
    if team == "Steady":
        yield from _recurring(truth, staff[0])
    for first in _month_starts(truth.first_day, truth.today):
        weekdays, noise = _weekdays(first), rng.gauss(1, 0.05)
        for day in weekdays:
            amount = round(truth.monthly(team, day) * noise / len(weekdays) * rng.uniform(0.5, 1.5))
            merchant, employee = rng.choice(SHOPS[team]), rng.choice(staff)
            if amount > 0 and truth.first_day <= day <= truth.today:
                yield day, employee, merchant, amount
                if rng.random() < 0.01:  # a partial refund a few days later
                    yield min(day + dt.timedelta(days=3), truth.today), staff[0], merchant, -amount // 3


def _recurring(truth: SyntheticTruth, payer: str) -> Iterator[Spend]:
    for first in _month_starts(truth.first_day, truth.today):
        for charge in (truth.subscription, truth.licence):
            day = first.replace(day=charge.day)
            if charge.month in (None, first.month) and truth.first_day <= day <= truth.today:
                yield day, payer, charge.merchant, to_minor(charge.amount)


def _sparse(rng: random.Random, truth: SyntheticTruth, staff: Sequence[str]) -> Iterator[Spend]:
    for first in _month_starts(truth.first_day, truth.today):
        day = first.replace(day=rng.randint(1, 28))
        if first.month % 3 == 1 and rng.random() < 0.75 and truth.first_day <= day <= truth.today:
            yield day, rng.choice(staff), rng.choice(SHOPS["Sparse"]), rng.randrange(*SPARSE_PURCHASE)


def _budgets(truth: SyntheticTruth) -> Iterator[tuple[str, str, str, str, str]]:
    """Quarterly budgets from the history's first quarter to the end of today's year, planned from the
    truth: Trend at last year's level, Shift at the level before the shift, the others above theirs;
    and Steady's SOFTWARE (its subscription and licence) 20% above what they charge."""
    for start in _month_starts(truth.first_day, dt.date(truth.today.year, 12, 31)):
        quarter, label = [_add_months(start, k) for k in range(3)], f"{start.year}-Q{start.month // 3 + 1}"
        for team in TEAMS if start.month % 3 == 1 else ():
            if team != "Newcomer" or _add_months(start, 3) > truth.newcomer_from:
                planned = sum(_planned(truth, team, month) for month in quarter) * BUDGET_FACTOR[team]
                yield team, "", label, money(round(planned / 100) * 100), CURRENCY
        if start.month % 3 == 1:
            software = sum(_charged(truth, month) for month in quarter) * 1.2
            yield "Steady", "SOFTWARE", label, money(round(software / 100) * 100), CURRENCY


def _planned(truth: SyntheticTruth, team: str, month: dt.date) -> float:
    if team == "Trend":
        return truth.monthly(team, _add_months(month, -12))
    if team in ("Shift", "Newcomer"):
        return truth.levels[team]
    return truth.monthly(team, month) + (_charged(truth, month) if team == "Steady" else 0)


def _charged(truth: SyntheticTruth, month: dt.date) -> int:
    licence = to_minor(truth.licence.amount) if month.month == truth.licence.month else 0
    return to_minor(truth.subscription.amount) + licence


HISTORY_HEADER = (
    "request_id", "requester_email", "team", "category_code", "amount", "currency", "description",
    "submitted_at", "status", "expense_id", "step", "approver_email", "decision", "decided_at",
)  # fmt: skip


def _requests(truth: SyntheticTruth) -> Iterator[tuple[str, ...]]:
    """Steady's approved request with no expense yet (known spend), and two that must not count: one
    still pending (its first step approved) and one approved too long ago to be still coming."""
    requester, lead = _email(truth.slug, "Steady", "alex"), _email(truth.slug, "Steady", "lead")
    for ref, amount, status, days_ago in (
        ("SR-KNOWN", truth.known_amount, "approved", 10),
        ("SR-PENDING", "9999.00", "pending", 5),
        ("SR-STALE", "7777.00", "approved", 200),
    ):
        submitted = dt.datetime.combine(truth.today - dt.timedelta(days=days_ago), dt.time(9), dt.UTC)
        decided = (submitted + dt.timedelta(hours=2)).isoformat()
        yield (ref, requester, "Steady", "EQUIPMENT", amount, CURRENCY, "Laptops for new joiners",
               submitted.isoformat(), status, "", "1", lead, "approved", decided)  # fmt: skip


def _employees(slug: str) -> Iterator[tuple[str, str, str, str, str]]:
    for team in TEAMS:
        for person in STAFF:
            role, limit = ("manager", "50000.00") if person == "lead" else ("employee", "")
            yield _email(slug, team, person), f"{person.title()} {team}", team, role, limit


def _email(slug: str, team: str, person: str) -> str:
    return f"{person}.{team.lower()}@{slug}.test"


def _write(folder: Path, name: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with (folder / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def money(minor: int) -> str:
    whole, cents = divmod(abs(minor), 100)
    return f"{'-' if minor < 0 else ''}{whole}.{cents:02d}"


def to_minor(amount: str) -> int:
    whole, cents = amount.lstrip("-").split(".")
    return (-1 if amount.startswith("-") else 1) * (int(whole) * 100 + int(cents))


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _month_starts(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = _add_months(month, 1)


def _weekdays(day: dt.date) -> list[dt.date]:
    """The weekdays of `day`'s month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return [d for d in (day.replace(day=n) for n in range(1, last + 1)) if d.weekday() < 5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--today", type=dt.date.fromisoformat, required=True)
    for option, default in (("--months", 36), ("--seed", 11)):
        parser.add_argument(option, type=int, default=default)
    parser.add_argument("--slug", default="synthco")
    args = vars(parser.parse_args())
    truth = write_synthetic_company(args.pop("folder"), **args)
    print(f"{truth.slug}: {truth.expenses} expenses from {truth.first_day} to {truth.today}")


if __name__ == "__main__":
    main()
