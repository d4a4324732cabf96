"""Drivers: the compared windows by the calendar, and the sums per window through the real database."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import create_engine, create_session_factory
from tests.factories import (
    make_category,
    make_company,
    make_employee,
    make_expense,
    make_merchant,
    make_team,
)
from tools.forecast.drivers import Sums, Window, Windows, compared_windows, comparisons, top_drivers
from tools.forecast.schemas import Comparison, Driver

D = dt.date


def _windows(now: tuple[D, D], previous: tuple[D, D], last_year: tuple[D, D]) -> Windows:
    return Windows(Window(*now), Window(*previous), Window(*last_year))


@pytest.mark.parametrize(
    ("period", "as_of", "expected"),
    [
        pytest.param(  # 58 days of Q4 against the first 58 of Q3
            (D(2026, 10, 1), D(2026, 12, 31)),
            D(2026, 11, 27),
            _windows(
                (D(2026, 10, 1), D(2026, 11, 27)),
                (D(2026, 7, 1), D(2026, 8, 27)),
                (D(2025, 10, 1), D(2025, 11, 27)),
            ),
            id="quarter",
        ),
        pytest.param(  # 61 days of Q2; Q1 has only 59 in Jan and Feb
            (D(2026, 4, 1), D(2026, 6, 30)),
            D(2026, 5, 31),
            _windows(
                (D(2026, 4, 1), D(2026, 5, 31)),
                (D(2026, 1, 1), D(2026, 3, 2)),
                (D(2025, 4, 1), D(2025, 5, 31)),
            ),
            id="quarter-after-a-short-one",
        ),
        pytest.param(  # 30 days of March: February has 28, all of it
            (D(2026, 3, 1), D(2026, 3, 31)),
            D(2026, 3, 30),
            _windows(
                (D(2026, 3, 1), D(2026, 3, 30)),
                (D(2026, 2, 1), D(2026, 2, 28)),
                (D(2025, 3, 1), D(2025, 3, 30)),
            ),
            id="month-longer-than-the-previous",
        ),
        pytest.param(  # a finished month against the whole previous month, not its first 28 days
            (D(2026, 2, 1), D(2026, 2, 28)),
            D(2026, 3, 5),
            _windows(
                (D(2026, 2, 1), D(2026, 2, 28)),
                (D(2026, 1, 1), D(2026, 1, 31)),
                (D(2025, 2, 1), D(2025, 2, 28)),
            ),
            id="month-over",
        ),
        pytest.param(
            (D(2026, 1, 1), D(2026, 12, 31)),
            D(2026, 3, 10),
            _windows(
                (D(2026, 1, 1), D(2026, 3, 10)),
                (D(2025, 1, 1), D(2025, 3, 10)),
                (D(2025, 1, 1), D(2025, 3, 10)),
            ),
            id="year",
        ),
        pytest.param(  # 60 days: by count the previous year reaches Mar 1; by the calendar Feb 28
            (D(2028, 1, 1), D(2028, 12, 31)),
            D(2028, 2, 29),
            _windows(
                (D(2028, 1, 1), D(2028, 2, 29)),
                (D(2027, 1, 1), D(2027, 3, 1)),
                (D(2027, 1, 1), D(2027, 2, 28)),
            ),
            id="leap-day-year",
        ),
        pytest.param(
            (D(2028, 2, 1), D(2028, 2, 29)),
            D(2028, 2, 29),
            _windows(
                (D(2028, 2, 1), D(2028, 2, 29)),
                (D(2028, 1, 1), D(2028, 1, 31)),
                (D(2027, 2, 1), D(2027, 2, 28)),
            ),
            id="leap-february-over",
        ),
        pytest.param(  # 10 days starting on a leap day; 3 have passed
            (D(2028, 2, 29), D(2028, 3, 9)),
            D(2028, 3, 2),
            _windows(
                (D(2028, 2, 29), D(2028, 3, 2)),
                (D(2028, 2, 19), D(2028, 2, 21)),
                (D(2027, 2, 28), D(2027, 3, 2)),
            ),
            id="range-from-a-leap-day",
        ),
        pytest.param(  # 31 days, 10 passed: the 31 days before, first 10 of them
            (D(2026, 7, 15), D(2026, 8, 14)),
            D(2026, 7, 24),
            _windows(
                (D(2026, 7, 15), D(2026, 7, 24)),
                (D(2026, 6, 14), D(2026, 6, 23)),
                (D(2025, 7, 15), D(2025, 7, 24)),
            ),
            id="range",
        ),
        pytest.param(
            (D(2026, 10, 1), D(2026, 12, 31)),
            D(2026, 10, 1),
            _windows(
                (D(2026, 10, 1), D(2026, 10, 1)),
                (D(2026, 7, 1), D(2026, 7, 1)),
                (D(2025, 10, 1), D(2025, 10, 1)),
            ),
            id="first-day",
        ),
        pytest.param((D(2026, 10, 1), D(2026, 12, 31)), D(2026, 9, 30), None, id="not-started"),
    ],
)
def test_compared_windows(period: tuple[D, D], as_of: D, expected: Windows | None) -> None:
    assert compared_windows(*period, as_of) == expected


def test_top_drivers_by_absolute_change_then_key_and_unchanged_left_out() -> None:
    rows = [
        Sums(None, "Uncategorized", 300, 0, 0),
        Sums("TRAVEL", "Travel", 0, 300, 0),
        Sums("MEALS", "Meals", 500, 200, 0),
        Sums("SOFTWARE", "Software", 900, 900, 0),
        Sums("BOOKS", "Books", 100, 0, 0),
    ]

    drivers = top_drivers(rows, lambda row: row.previous, "EUR", top=3)

    assert drivers == [
        Driver(key="MEALS", name="Meals", now="5.00", before="2.00", change="3.00"),
        Driver(key="TRAVEL", name="Travel", now="0.00", before="3.00", change="-3.00"),
        Driver(key=None, name="Uncategorized", now="3.00", before="0.00", change="3.00"),
    ]


@dataclass(frozen=True)
class Books:
    company_id: int
    team_id: int
    travel_id: int


@pytest.fixture
async def session(database_url: str, anyio_backend: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def _books(session: AsyncSession) -> Books:
    """Marketing's expenses around Q4 2026 (as of Nov 27), each on or just outside a window's edge;
    Sales and another company spend on the same days and must not count."""
    acme = await make_company(session, slug="acme")
    marketing = await make_team(session, company=acme, name="Marketing")
    sales = await make_team(session, company=acme, name="Sales")
    ana = await make_employee(session, company=acme, team=marketing, name="Ana Lima")
    ben = await make_employee(session, company=acme, team=marketing, name="Ben Ode")
    cid = await make_employee(session, company=acme, team=sales, name="Cid Roy")
    travel = await make_category(session, company=acme, code="TRAVEL")
    software = await make_category(session, company=acme, code="SOFTWARE")
    lufthansa = await make_merchant(session, company=acme, name="Lufthansa")
    figma = await make_merchant(session, company=acme, name="Figma")
    hilton = await make_merchant(session, company=acme, name="Hilton")
    spend = [
        # this quarter to date: 2026-10-01 .. 2026-11-27
        (ana, lufthansa, travel, D(2026, 10, 5), "1200.00"),
        (ana, lufthansa, travel, D(2026, 10, 20), "-200.00"),  # a refund nets out
        (ana, hilton, None, D(2026, 11, 10), "450.00"),
        (ben, figma, software, D(2026, 11, 27), "300.00"),
        (ben, lufthansa, travel, D(2026, 11, 28), "999.00"),  # after today
        # the same stretch of Q3: 2026-07-01 .. 2026-08-27
        (ana, hilton, None, D(2026, 6, 30), "100.00"),
        (ana, lufthansa, travel, D(2026, 7, 1), "500.00"),
        (ben, figma, software, D(2026, 8, 27), "300.00"),
        (ben, figma, software, D(2026, 8, 28), "777.00"),
        # the same stretch a year earlier: 2025-10-01 .. 2025-11-27
        (ana, hilton, None, D(2025, 10, 1), "800.00"),
        (ben, figma, software, D(2025, 11, 27), "250.00"),
        (ben, lufthansa, travel, D(2025, 11, 28), "600.00"),
        (cid, lufthansa, travel, D(2026, 10, 10), "5000.00"),  # another team
    ]
    for n, (employee, merchant, category, day, amount) in enumerate(spend):
        await make_expense(
            session,
            company=acme,
            employee=employee,
            merchant=merchant,
            category=category,
            ref=f"E{n}",
            spent_on=day,
            amount=amount,
        )
    await _another_company(session)
    return Books(acme.id, marketing.id, travel.id)


async def _another_company(session: AsyncSession) -> None:
    globex = await make_company(session, slug="globex")
    team = await make_team(session, company=globex, name="Marketing")
    eve = await make_employee(session, company=globex, team=team, name="Eve Ray")
    merchant = await make_merchant(session, company=globex, name="Lufthansa")
    for n, day in enumerate([D(2026, 10, 5), D(2026, 7, 5), D(2025, 10, 5)]):
        await make_expense(
            session,
            company=globex,
            employee=eve,
            merchant=merchant,
            ref=f"G{n}",
            spent_on=day,
            amount="9999.00",
        )


def _driver(key: str | None, name: str, now: str, before: str, change: str) -> Driver:
    return Driver(key=key, name=name, now=now, before=before, change=change)


UNCATEGORIZED = (None, "Uncategorized")
TRAVEL, SOFTWARE = ("TRAVEL", "Travel"), ("SOFTWARE", "Software")
LUFTHANSA, FIGMA, HILTON = ("Lufthansa", "Lufthansa"), ("Figma", "Figma"), ("Hilton", "Hilton")
ANA, BEN = ("ana@acme.example", "Ana Lima"), ("ben@acme.example", "Ben Ode")


@pytest.mark.anyio
async def test_the_team_against_last_quarter_and_last_year(session: AsyncSession) -> None:
    books = await _books(session)

    found = await comparisons(
        session,
        books.company_id,
        books.team_id,
        None,
        D(2026, 10, 1),
        D(2026, 12, 31),
        D(2026, 11, 27),
        "EUR",
    )

    assert found == [
        Comparison(
            against="previous_period",
            date_from=D(2026, 7, 1),
            date_to=D(2026, 8, 27),
            now="1750.00",
            before="800.00",
            change="950.00",
            categories=[
                _driver(*TRAVEL, "1000.00", "500.00", "500.00"),
                _driver(*UNCATEGORIZED, "450.00", "0.00", "450.00"),
            ],
            merchants=[
                _driver(*LUFTHANSA, "1000.00", "500.00", "500.00"),
                _driver(*HILTON, "450.00", "0.00", "450.00"),
            ],
            employees=[_driver(*ANA, "1450.00", "500.00", "950.00")],
        ),
        Comparison(
            against="same_period_last_year",
            date_from=D(2025, 10, 1),
            date_to=D(2025, 11, 27),
            now="1750.00",
            before="1050.00",
            change="700.00",
            categories=[
                _driver(*TRAVEL, "1000.00", "0.00", "1000.00"),
                _driver(*UNCATEGORIZED, "450.00", "800.00", "-350.00"),
                _driver(*SOFTWARE, "300.00", "250.00", "50.00"),
            ],
            merchants=[
                _driver(*LUFTHANSA, "1000.00", "0.00", "1000.00"),
                _driver(*HILTON, "450.00", "800.00", "-350.00"),
                _driver(*FIGMA, "300.00", "250.00", "50.00"),
            ],
            employees=[
                _driver(*ANA, "1450.00", "800.00", "650.00"),
                _driver(*BEN, "300.00", "250.00", "50.00"),
            ],
        ),
    ]


@pytest.mark.anyio
async def test_one_category_and_the_top_limit(session: AsyncSession) -> None:
    books = await _books(session)

    found = await comparisons(
        session,
        books.company_id,
        books.team_id,
        books.travel_id,
        D(2026, 10, 1),
        D(2026, 12, 31),
        D(2026, 11, 27),
        "EUR",
        top=1,
    )

    assert [(c.now, c.before, c.change) for c in found] == [
        ("1000.00", "500.00", "500.00"),
        ("1000.00", "0.00", "1000.00"),
    ]
    assert [c.categories for c in found] == [
        [_driver(*TRAVEL, "1000.00", "500.00", "500.00")],
        [_driver(*TRAVEL, "1000.00", "0.00", "1000.00")],
    ]
    assert [c.employees for c in found] == [
        [_driver(*ANA, "1000.00", "500.00", "500.00")],
        [_driver(*ANA, "1000.00", "0.00", "1000.00")],
    ]


@pytest.mark.anyio
async def test_a_period_not_started_has_nothing_to_compare(session: AsyncSession) -> None:
    books = await _books(session)

    found = await comparisons(
        session, books.company_id, books.team_id, None, D(2027, 1, 1), D(2027, 3, 31), D(2026, 11, 27), "EUR"
    )

    assert found == []
