"""Quarterly budgets planned the way finance teams do: last year's run rate per head, planned heads.

A team's budget is its spend per head over the last four quarters times its planned headcount, with
some slack. The run rate is taken with each team's drift removed (what the team "should" have spent
for its headcount), so teams whose spending drifts up outrun their budgets more and more as the
window goes on, while the others land around theirs, under in August and over in conference
quarters. Budgets cover every full quarter of the window plus the current one; a few teams also
budget their main category.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.demo.model import Org, Person, Spend
from server.demo.timeline import DAYS_PER_MONTH, Window, add_months, quarter_of, quarter_start, rng_for

_MAIN_CATEGORY = {
    "marketing": "MARKETING-ADS",
    "hardware": "PROTOTYPING",
    "people": "RECRUITING",
    "sales": "MEALS-CLIENT",
    "engineering": "CLOUD",
    "exec": "TRAVEL-AIR",
}
_ROUND_MINOR = 50_000  # budgets are round numbers: multiples of 500 EUR
_MIN_COVERAGE = 0.3  # a sliver of a quarter at the window start says little about its run rate
_BASIS_QUARTERS = 4


@dataclass(frozen=True, slots=True)
class Budget:
    team: str
    category: str  # "" for the team's whole spend
    period: str
    amount_minor: int


def category_targets(org: Org) -> dict[str, str]:
    """Team -> category with its own budget: the first team of each profile budgets its main category."""
    targets: dict[str, str] = {}
    seen: set[str] = set()
    for team in org.teams:
        if team.profile in _MAIN_CATEGORY and team.profile not in seen:
            seen.add(team.profile)
            targets[team.name] = _MAIN_CATEGORY[team.profile]
    return targets


class BudgetBook:
    def __init__(self, window: Window, drift: dict[str, float], targets: dict[str, str]) -> None:
        self._window = window
        self._drift = drift
        self._targets = targets
        self._spent: dict[tuple[str, str, str], float] = {}

    def add(self, spend: Spend) -> None:
        team = spend.person.team
        factor = 1.0 + self._drift.get(team, 0.0) * self._window.month_index(spend.date)
        undrifted = spend.amount_company_minor / factor
        quarter = quarter_of(spend.date)
        keys = [(team, "", quarter)]
        if self._targets.get(team) == spend.category:
            keys.append((team, spend.category, quarter))
        for key in keys:
            self._spent[key] = self._spent.get(key, 0.0) + undrifted

    def plan(self, seed: int, org: Org) -> list[Budget]:
        rng = rng_for(seed, "budgets")
        quarters = self._quarters()
        budgets = []
        for team in org.teams:
            slack = rng.uniform(0.98, 1.12)
            members = org.members[team.name]
            covered = [_head_months(members, q.covered) for q in quarters]
            planned = [_head_months(members, q.whole) for q in quarters]
            categories = ["", self._targets[team.name]] if team.name in self._targets else [""]
            for category in categories:
                spent = [self._spent.get((team.name, category, q.period), 0.0) for q in quarters]
                budgets.extend(_team_plan(team.name, category, quarters, spent, covered, planned, slack))
        return budgets

    def _quarters(self) -> list[Quarter]:
        window, result = self._window, []
        start = quarter_start(window.start)
        while start <= window.today:
            end = add_months(start, 3) - dt.timedelta(days=1)
            covered = (max(start, window.start), min(end, window.today))
            share = ((covered[1] - covered[0]).days + 1) / ((end - start).days + 1)
            budgeted = start >= window.start or end >= window.today
            result.append(Quarter(quarter_of(start), (start, end), covered, share, budgeted))
            start = add_months(start, 3)
        return result


@dataclass(frozen=True, slots=True)
class Quarter:
    period: str
    whole: tuple[dt.date, dt.date]
    covered: tuple[dt.date, dt.date]  # the part inside the window (the current quarter ends today)
    share: float
    budgeted: bool  # full quarters of the window, and the current one


def _head_months(members: list[Person], span: tuple[dt.date, dt.date]) -> float:
    """Person-months on the team in `span`; after today that is the current headcount (the plan)."""
    days = 0
    for person in members:
        first = max(span[0], person.start)
        last = min(span[1], person.end) if person.end else span[1]
        days += max(0, (last - first).days + 1)
    return days / DAYS_PER_MONTH


def _team_plan(
    team: str,
    category: str,
    quarters: list[Quarter],
    spent: list[float],
    covered: list[float],
    planned: list[float],
    slack: float,
) -> list[Budget]:
    """Each quarter: spend per head over the last four quarters (drift removed) times planned heads."""
    plans = []
    for index, quarter in enumerate(quarters):
        if not quarter.budgeted:
            continue
        basis = [
            i for i in range(max(0, index - _BASIS_QUARTERS), index) if quarters[i].share >= _MIN_COVERAGE
        ]
        basis = basis or [index]
        heads = sum(covered[i] for i in basis)
        if heads <= 0 or planned[index] <= 0:
            continue
        per_head = sum(spent[i] for i in basis) / heads
        amount = round(per_head * planned[index] * slack / _ROUND_MINOR) * _ROUND_MINOR
        plans.append(Budget(team, category, quarter.period, max(_ROUND_MINOR, amount)))
    return plans
