"""SaaS and other contracts: the same merchant, on the same day every month, for a stable amount.

Seat plans follow the headcount they cover, bought in packs of seats, so the amount stays put for months
and then moves; usage plans (cloud, monitoring, APIs) drift up with the company; annual plans charge
once a year on their renewal month, as an invoice. A few tools are adopted during the window and a
few cancelled. Each contract is held by one person (the owning team's head), whose team pays.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from server.demo.descriptors import render
from server.demo.fx import COMPANY_CURRENCY, to_company_minor
from server.demo.merchants import make_merchant, read_data
from server.demo.model import Merchant, Org, Person, Spend
from server.demo.places import CITIES
from server.demo.timeline import Month
from server.demo.world import World

_TECH = frozenset({"engineering", "hardware", "product"})
_MOBILE = frozenset({"sales", "exec", "support", "ops"})
_USAGE_GROWTH = 0.02  # per month, on top of headcount
_INVOICE_FROM_EUR_MINOR = 500_000  # big monthly bills come as invoices


@dataclass(frozen=True, slots=True)
class Plan:
    merchant: Merchant
    owner: str  # profile of the team that holds the contract
    billing: str  # seat (monthly), annual (per seat and year), flat (monthly), usage (monthly, varies)
    price: float  # in the billing currency; for usage plans, the bill at 250 people
    scope: str  # whose headcount seats follow: company, tech, mobile, a team profile or a city code
    adoption: float  # share of the scope with a seat
    day: int  # day of the month it bills


def _load() -> tuple[Plan, ...]:
    """`data/subscriptions.csv`: one contract per line, columns as in `Plan` (descriptors `|`-separated)."""
    plans = []
    for row in read_data("subscriptions.csv"):
        price = float(row["price"])
        merchant = make_merchant(
            row["name"],
            row["mcc"],
            row["category"],
            "saas",
            price,
            0.0,
            row["descriptor"],
            currency=row["currency"] or None,
        )
        plans.append(
            Plan(
                merchant,
                row["owner"],
                row["billing"],
                price,
                row["scope"],
                float(row["adoption"]),
                int(row["day"]),
            )
        )
    return tuple(plans)


PLANS: tuple[Plan, ...] = _load()


@dataclass(frozen=True, slots=True)
class Contract:
    plan: Plan
    holder: Person
    descriptor: str  # rendered once: a subscription shows the same line every month
    first_month: int  # window month index it starts in (negative: before the window)
    last_month: int | None  # cancelled after this month
    renewal: int  # calendar month of annual renewals


def sign_contracts(world: World) -> list[Contract]:
    rng, months = world.rng, len(world.window.months)
    contracts = []
    for plan in PLANS:
        holder = _holder(world.org, plan.owner)
        if holder is None:
            continue
        first = -rng.randint(1, 30) if rng.random() < 0.8 else rng.randrange(months)
        last = first + rng.randint(6, 18) if rng.random() < 0.08 else None
        city = CITIES[plan.scope] if plan.scope in CITIES else CITIES[holder.home]
        template = rng.choice(plan.merchant.descriptors)
        descriptor = render(template, plan.merchant.name, city, rng)
        contracts.append(Contract(plan, holder, descriptor, first, last, rng.randint(1, 12)))
    return contracts


def _holder(org: Org, profile: str) -> Person | None:
    for wanted in (profile, "it", "finance"):
        team = next((t for t in org.teams if t.profile == wanted), None)
        if team is not None and team.manager_email:
            return org.by_email[team.manager_email]
    return None


def headcounts(org: Org, month: Month) -> Counter[str]:
    """People on the payroll on the 1st, by each scope a plan can follow."""
    counts: Counter[str] = Counter()
    for person in org.people:
        if person.employed_on(month.first):
            profile = org.by_team[person.team].profile
            counts.update(("company", profile, person.home))
            if profile in _TECH:
                counts["tech"] += 1
            if profile in _MOBILE:
                counts["mobile"] += 1
    return counts


def bill_month(world: World, contracts: list[Contract], month: Month, counts: Counter[str]) -> None:
    for contract in contracts:
        if month.index < contract.first_month or (
            contract.last_month is not None and month.index > contract.last_month
        ):
            continue
        day = month.first.replace(day=min(contract.plan.day, 28))
        if day > month.last:
            continue
        minor = _amount_minor(world, contract, month, counts)
        if minor > 0:
            world.emit(_spend(contract, day, minor))


def _amount_minor(world: World, contract: Contract, month: Month, counts: Counter[str]) -> int:
    plan = contract.plan
    if plan.billing == "flat":
        return round(plan.price * 100)
    if plan.billing == "usage":
        growth = 1 + _USAGE_GROWTH * (month.index - contract.first_month)
        size = max(counts["company"], 1) / 250
        return round(plan.price * size * growth * world.rng.lognormvariate(0, 0.12) * 100)
    if plan.billing == "annual" and month.first.month != contract.renewal:
        return 0
    return _seats(counts[plan.scope] * plan.adoption, plan.scope) * round(plan.price * 100)


def _seats(wanted: float, scope: str) -> int:
    if scope == "none":
        return 1  # a flat annual contract
    if wanted <= 0:
        return 0
    # Seats are bought in packs, so the bill stays put for a few months before it steps up.
    pack = 1 if wanted < 5 else 5 if wanted < 50 else 10 if wanted < 200 else 25
    return math.ceil(wanted / pack) * pack


def _spend(contract: Contract, day: dt.date, minor: int) -> Spend:
    plan = contract.plan
    currency = plan.merchant.currency or COMPANY_CURRENCY
    company_minor = to_company_minor(minor, currency)
    annual = plan.billing == "annual"
    big = company_minor >= _INVOICE_FROM_EUR_MINOR
    return Spend(
        date=day,
        person=contract.holder,
        merchant=plan.merchant,
        descriptor=contract.descriptor,
        amount_minor=minor,
        currency=currency,
        amount_company_minor=company_minor,
        category=plan.merchant.category,
        memo=f"Annual renewal {plan.merchant.name}" if annual else "",
        payment_type="invoice" if annual or big else "card",
        contracted=not annual,
    )
