"""`write_demo_company`: the Acme Robotics demo folder, deterministic for its arguments.

Every stage draws from its own `random.Random` stream derived from the seed (and Faker is seeded per
instance), never from global state, so the same (seed, employees, months, today) writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from server import progress
from server.demo import writer
from server.demo.approvals import Policy, build_policy
from server.demo.budgets import BudgetBook, category_targets
from server.demo.categories import CATEGORIES
from server.demo.history import ApprovalDesk, ApprovalRecord
from server.demo.labels import Labeller
from server.demo.model import Org, Spend
from server.demo.org import build_org
from server.demo.review_cases import plant_review_cases
from server.demo.spend import DRIFTING_FROM, SpendEngine
from server.demo.subscriptions import PLANS
from server.demo.timeline import Window

SLUG = "acme"
NAME = "Acme Robotics GmbH"
COUNTRY = "DE"  # its public holidays shape the forecasts' days
MIN_EMPLOYEES = 10


@dataclass(frozen=True, slots=True)
class DemoSummary:
    slug: str
    teams: int
    employees: int
    categories: int
    expenses: int
    budgets: int
    approval_requests: int
    approval_decisions: int
    first_date: dt.date  # the window: first day of the first month ...
    last_date: dt.date  # ... through `today`
    over_budget_teams: tuple[str, ...]  # teams whose spending drifts above plan

    def describe(self) -> str:
        """What was written, for a person: a line of counts, the dates, the teams built to overrun."""
        lines = [
            f"{self.teams} teams, {self.employees:,} employees, {self.categories} categories, "
            f"{self.expenses:,} expenses, {self.budgets} budgets, {self.approval_requests:,} approval "
            f"requests ({self.approval_decisions:,} decisions)",
            f"expenses from {self.first_date.isoformat()} to {self.last_date.isoformat()}",
        ]
        if self.over_budget_teams:
            lines.append(f"teams set to overrun their budgets: {', '.join(self.over_budget_teams)}")
        return "\n".join(f"  {line}" for line in lines)


def write_demo_company(
    folder: Path,
    *,
    seed: int = 7,
    employees: int = 250,
    months: int = 24,
    today: dt.date,
    review_cases: bool = True,
) -> DemoSummary:
    """Write the demo company's import folder (docs/data-format.md) into `folder` and summarize it.
    `review_cases`: plant the review's cases and write its policy and answer key (review_cases.py)."""
    if employees < MIN_EMPLOYEES:
        raise ValueError(f"employees must be at least {MIN_EMPLOYEES}, got {employees}")
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    window = Window.ending(today, months)
    org = build_org(seed, employees, window)
    policy = build_policy(org)
    folder.mkdir(parents=True, exist_ok=True)
    _write_reference_data(folder, org, policy)
    writer.write_table(folder, "fx_rates.csv", writer.fx_rows(window.start))
    engine = SpendEngine(seed, org, window)
    book = BudgetBook(window, engine.world.drift, category_targets(org))
    expenses, requests, decisions = _write_activity(folder, seed, org, policy, window, engine, book)
    budgets = writer.write_table(folder, "budgets.csv", writer.budget_rows(book.plan(seed, org)))
    if review_cases:
        with progress.progress("demo: review cases planted"):
            expenses += plant_review_cases(folder, seed, window.start, today, expenses).expenses
    return DemoSummary(
        slug=SLUG,
        teams=len(org.teams),
        employees=len(org.people),
        categories=len(CATEGORIES),
        expenses=expenses,
        budgets=budgets,
        approval_requests=requests,
        approval_decisions=decisions,
        first_date=window.start,
        last_date=today,
        over_budget_teams=tuple(t.name for t in org.teams if engine.world.drift[t.name] >= DRIFTING_FROM),
    )


def _write_reference_data(folder: Path, org: Org, policy: dict[str, Any]) -> None:
    writer.write_table(folder, "company.csv", writer.company_rows(SLUG, NAME, COUNTRY))
    writer.write_table(folder, "teams.csv", writer.team_rows(org))
    writer.write_table(folder, "employees.csv", writer.employee_rows(org))
    writer.write_table(folder, "categories.csv", writer.category_rows(CATEGORIES))
    writer.write_table(folder, "category_rules.csv", writer.rule_rows(PLANS))
    writer.write_policy(folder, policy)


def _write_activity(
    folder: Path,
    seed: int,
    org: Org,
    policy: dict[str, Any],
    window: Window,
    engine: SpendEngine,
    book: BudgetBook,
) -> tuple[int, int, int]:
    """Stream expenses and approval history month by month; returns (expenses, requests, decisions)."""
    desk = ApprovalDesk(seed, org, Policy(policy, org), window)
    labeller = Labeller(seed, window.today)
    expenses = requests = decisions = 0
    with writer.ActivityStream(folder) as stream:
        for month in progress.track(window.months, "demo: months written"):
            spends = engine.month(month)
            records: list[ApprovalRecord] = []
            for spend in spends:
                expenses += 1
                spend.ref = f"EXP-{expenses:06d}"
                records.extend(_settle(spend, desk, labeller))
                book.add(spend)
            records += desk.unspent(month)
            requests, decisions = _number(records, requests, decisions)
            stream.write(spends, records)
        # Trips and purchases booked for after today: asked for already, not spent yet.
        upcoming = sorted(engine.world.upcoming, key=attrgetter("date"))
        records = [r for s in upcoming if desk.needs_approval(s) and (r := desk.review(s)) is not None]
        requests, decisions = _number(records, requests, decisions)
        stream.write([], records)
    return expenses, requests, decisions


def _number(records: list[ApprovalRecord], requests: int, decisions: int) -> tuple[int, int]:
    """Give requests their ids in submission order; returns the running (requests, decisions) counts."""
    records.sort(key=attrgetter("submitted_at"))
    for record in records:
        requests += 1
        record.ref = f"APR-{requests:05d}"
        decisions += len(record.decisions)
    return requests, decisions


def _settle(spend: Spend, desk: ApprovalDesk, labeller: Labeller) -> list[ApprovalRecord]:
    """Approval (when the amount needs one) first, since the expense's status follows the request."""
    record = desk.review(spend) if desk.needs_approval(spend) else None
    labeller.label(spend, record.status if record else None)
    return [record] if record else []
