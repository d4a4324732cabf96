"""A company with planted findings (acme, EUR) next to one that must never show through (globex, with
the same refs, names and a duplicate of its own), seeded once per backend; in-memory clients on both.

Planted in July 2026 at acme (docs/review.md gives the definitions):
- duplicate: EXP-D2 repeats EXP-D1 (Ann, Hotel Adlon, 189.90, two days later);
- split_purchase: EXP-S1 + EXP-S2 (Bob, Dell, 3000 + 2500) against the approval threshold of 5000;
- refund_without_charge: EXP-R1 (-80.00 at Zalando, never charged);
- new_merchant: EXP-N1 (2500.00, the first charge ever at Acme Consulting);
- spike: EXP-K1 (Carla, 900.00 MEALS against twelve months of about 30.00);
- round_numbers: EXP-O1..O3 (Carla, Taxi Huber, 50/100/150 within ten days).

initech (EUR, country DE) has an expense policy (version 2 in force): MEALS receipts above 50, a TRAVEL
cap of 200 per expense (300 in CH), "wine" flagged, weekend MEALS; and a receipt claimed twice by two
people, and two card charges without an employee.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from sqlalchemy import select

from server.context import AppContext
from server.db.engine import create_engine, create_session_factory
from server.db.models import Company, ExpensePolicy
from server.db.rollups import rebuild_spend_rollups
from tests import factories as f
from tests.conftest import BACKENDS, seeded_once
from tests.world import connect

_SEEDED = pytest.StashKey[dict[str, str]]()


@pytest.fixture(scope="session", params=BACKENDS)
def review_url(request: pytest.FixtureRequest, make_database: Callable[[str], str]) -> str:
    return seeded_once(request, make_database, _SEEDED, seed_review)


@pytest.fixture
async def acme(
    servers: Callable[[str, str], MCPServer[AppContext]], review_url: str, anyio_backend: str
) -> AsyncIterator[Client]:
    async with connect(servers(review_url, "acme"), "auto") as client:
        yield client


@pytest.fixture
async def initech(
    servers: Callable[[str, str], MCPServer[AppContext]], review_url: str, anyio_backend: str
) -> AsyncIterator[Client]:
    async with connect(servers(review_url, "initech"), "legacy") as client:
        yield client


@pytest.fixture
async def globex(
    servers: Callable[[str, str], MCPServer[AppContext]], review_url: str, anyio_backend: str
) -> AsyncIterator[Client]:
    async with connect(servers(review_url, "globex"), "auto") as client:
        yield client


async def seed_review(url: str) -> None:
    """acme, globex and initech as the module docstring says, in the database at `url`."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await _acme(session)
            await _globex(session)
            await _initech(session)
            for company_id in (await session.execute(select(Company.id))).scalars():
                await rebuild_spend_rollups(session, company_id)
    finally:
        await engine.dispose()


JULY = dt.date(2026, 7, 1)


async def _acme(session: Any) -> None:
    acme = await f.make_company(session, slug="acme", name="Acme Corp", currency="EUR")
    sales = await f.make_team(session, company=acme, name="Sales")
    engineering = await f.make_team(session, company=acme, name="Engineering")
    ann = await f.make_employee(session, company=acme, team=sales, name="Ann Lee")
    carla = await f.make_employee(session, company=acme, team=sales, name="Carla Diaz")
    bob = await f.make_employee(session, company=acme, team=engineering, name="Bob Stone")
    meals = await f.make_category(session, company=acme, code="MEALS", name="Meals")
    hardware = await f.make_category(session, company=acme, code="HARDWARE", name="Hardware")
    travel = await f.make_category(session, company=acme, code="TRAVEL", name="Travel")
    names = ("Hotel Adlon", "Dell", "Zalando", "Acme Consulting", "Trattoria", "Taxi Huber", "Pret")
    m = {name: await f.make_merchant(session, company=acme, name=name) for name in names}
    await f.make_policy(
        session,
        company=acme,
        document={"rules": [{"name": "Large", "when": {"amount_over": "5000"}, "steps": ["finance_team"]}]},
    )

    async def spend(ref: str, who: Any, merchant: str, day: dt.date, amount: str, **options: Any) -> None:
        await f.make_expense(
            session,
            company=acme,
            employee=who,
            merchant=m[merchant],
            ref=ref,
            spent_on=day,
            amount=amount,
            **options,
        )

    for month in range(12):  # Carla's and Ann's usual lunches, a year before July
        day = dt.date(2025, 7 + month, 10) if month < 6 else dt.date(2026, month - 5, 10)
        await spend(f"EXP-H{month:02d}", carla, "Trattoria", day, f"{28 + month % 5}.40", category=meals)
        await spend(f"EXP-A{month:02d}", ann, "Trattoria", day, f"{30 + month % 3}.10", category=meals)
    await spend("EXP-D1", ann, "Hotel Adlon", JULY.replace(day=6), "189.90", category=travel, receipt=True)
    await spend("EXP-D2", ann, "Hotel Adlon", JULY.replace(day=8), "189.90", category=travel)
    await spend("EXP-S1", bob, "Dell", JULY.replace(day=14), "3000.00", category=hardware)
    await spend("EXP-S2", bob, "Dell", JULY.replace(day=15), "2500.00", category=hardware)
    await spend("EXP-R1", bob, "Zalando", JULY.replace(day=9), "-80.00")
    await spend("EXP-N1", bob, "Acme Consulting", JULY.replace(day=2), "2500.00")
    await spend("EXP-K1", carla, "Trattoria", JULY.replace(day=17), "900.00", category=meals)
    for n, amount in enumerate(("50.00", "100.00", "150.00"), start=1):
        await spend(f"EXP-O{n}", carla, "Taxi Huber", JULY.replace(day=3 * n), amount, category=travel)
    await spend("EXP-P1", ann, "Pret", JULY.replace(day=6), "3.20", category=meals)
    await spend("EXP-P2", ann, "Pret", JULY.replace(day=7), "3.20", category=meals)


async def _globex(session: Any) -> None:
    globex = await f.make_company(session, slug="globex", name="Globex", currency="USD")
    sales = await f.make_team(session, company=globex, name="Sales")
    ann = await f.make_employee(session, company=globex, team=sales, name="Ann Lee")
    hotel = await f.make_merchant(session, company=globex, name="Hotel Adlon")
    for ref, day in (("EXP-D1", 20), ("EXP-D2", 21)):
        await f.make_expense(
            session,
            company=globex,
            employee=ann,
            merchant=hotel,
            ref=ref,
            spent_on=JULY.replace(day=day),
            amount="410.00",
        )


POLICY = {
    "rules": [
        {"kind": "receipt_required", "id": "meal-receipts", "above": "50", "categories": ["MEALS"]},
        {"kind": "cap", "id": "travel-cap", "per": "expense", "amount": "200", "countries": {"CH": "300"}},
        {"kind": "keywords", "id": "alcohol", "keywords": ["wine"], "description": "No alcohol."},
        {"kind": "weekend_spend", "id": "weekend-meals", "categories": ["MEALS"]},
    ]
}


async def _initech(session: Any) -> None:
    initech = await f.make_company(session, slug="initech", name="Initech", currency="EUR")
    initech.country = "DE"
    team = await f.make_team(session, company=initech, name="Sales")
    ann = await f.make_employee(session, company=initech, team=team, name="Ann Lee")
    bob = await f.make_employee(session, company=initech, team=team, name="Bob Stone")
    meals = await f.make_category(session, company=initech, code="MEALS")
    travel = await f.make_category(session, company=initech, code="TRAVEL")
    bistro = await f.make_merchant(session, company=initech, name="Bistro")
    hotel = await f.make_merchant(session, company=initech, name="Hotel Baur")
    for version, document in ((1, {"rules": []}), (2, POLICY)):
        session.add(ExpensePolicy(company_id=initech.id, version=version, document=document))

    async def spend(ref: str, who: Any, merchant: Any, day: int, amount: str, **options: Any) -> Any:
        extra = {k: options.pop(k) for k in ("card", "receipt_id", "country", "no_employee") if k in options}
        expense = await f.make_expense(
            session,
            company=initech,
            employee=who,
            merchant=merchant,
            ref=ref,
            spent_on=JULY.replace(day=day),
            amount=amount,
            **options,
        )
        expense.card, expense.receipt_id = extra.get("card"), extra.get("receipt_id")
        expense.country = extra.get("country")
        if extra.get("no_employee"):
            expense.employee_id = None
        await session.flush()
        return expense

    await spend("EXP-I1", ann, bistro, 7, "80.00", category=meals)  # no receipt
    await spend(
        "EXP-I2", ann, bistro, 8, "45.00", category=meals, memo="Dinner, a bottle of wine", receipt=True
    )
    await spend("EXP-I3", bob, hotel, 9, "250.00", category=travel, receipt=True)  # over 200
    await spend("EXP-I4", bob, hotel, 14, "250.00", category=travel, country="CH", receipt=True)  # under 300
    await spend("EXP-I5", ann, bistro, 11, "20.00", category=meals, receipt=True)  # a Saturday
    await spend("EXP-I6", ann, hotel, 15, "120.00", category=travel, receipt_id="R-9", receipt=True)
    await spend("EXP-I7", bob, bistro, 21, "35.00", category=meals, receipt_id="r-9 ", receipt=True)
    await spend("EXP-I8", bob, hotel, 1, "310.00", category=travel, receipt_id="INV-77", receipt=True)
    late = await spend("EXP-I9", ann, bistro, 1, "310.00", category=meals, receipt_id="inv-77", receipt=True)
    late.spent_on = dt.date(2026, 9, 20)  # two and a half months later
    for ref, day in (("EXP-C1", 22), ("EXP-C2", 23)):
        await spend(
            ref, ann, hotel, day, "99.00", category=travel, card="**** 4242", no_employee=True, receipt=True
        )
