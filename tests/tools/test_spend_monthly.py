"""The monthly rollups (spend_monthly; merchant_monthly and employee_monthly): summarize_spend's answer from
them (whole months) plus the expenses (the edges) is the answer of the expenses alone, after an import and
after categorize_expenses; and categorizations running at the same time keep spend_monthly exact
(PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest
from sqlalchemy import Select, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.engine import create_engine, create_session_factory
from server.db.models import (
    Category,
    Company,
    Employee,
    EmployeeMonthly,
    MerchantMonthly,
    SpendMonthly,
    Team,
)
from server.db.tenancy import enter_tenant
from server.settings import Settings
from tests.categorize.conftest import demo_folder, fresh_url, server_for
from tests.world import call_ok, connect, raw
from tools.categorize import queries as categorize
from tools.spend import queries as spend
from tools.spend.schemas import GroupBy

pytestmark = pytest.mark.anyio
__all__ = ["demo_folder", "fresh_url"]  # fixtures of tests/categorize, used here

D = dt.date
# Whole years, a month, mid-month edges, a day, across a year end, and periods without any spend.
PERIODS = [
    (D(2026, 1, 1), D(2026, 12, 31)),
    (D(2025, 1, 1), D(2025, 12, 31)),
    (D(2026, 3, 1), D(2026, 3, 31)),
    (D(2026, 1, 15), D(2026, 5, 10)),
    (D(2026, 3, 17), D(2026, 3, 17)),
    (D(2025, 12, 20), D(2026, 2, 3)),
    (D(2025, 11, 1), D(2026, 6, 30)),
    (D(2020, 3, 1), D(2020, 5, 31)),
]


def random_periods(count: int) -> Iterator[tuple[dt.date, dt.date]]:
    draw = random.Random(10)
    for _ in range(count):
        start = D(2025, 10, 1) + dt.timedelta(days=draw.randrange(320))
        yield start, start + dt.timedelta(days=draw.randrange(200))


def month_key(url: str, column: str) -> str:
    return f"strftime('%Y-%m', {column})" if url.startswith("sqlite") else f"to_char({column}, 'YYYY-MM')"


async def rollup_drift(url: str) -> set[tuple[object, ...]]:
    """The rows of spend_monthly and of an independent count from the expenses that differ: none when
    the rollup is exact."""
    month = month_key(url, "spent_on")
    counted = await raw(
        url,
        f"SELECT company_id, {month}, team_id, category_id, SUM(amount_company_minor), COUNT(*) "
        f"FROM expenses GROUP BY company_id, {month}, team_id, category_id",
    )
    stored = await raw(
        url,
        f"SELECT company_id, {month_key(url, 'month')}, team_id, category_id, total_minor, expenses "
        "FROM spend_monthly",
    )
    return set(counted) ^ set(stored)


@pytest.fixture
async def sessions(fresh_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(fresh_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def first_id(session: AsyncSession, query: Select[int]) -> int:
    return (await session.execute(query.limit(1))).scalar_one()


async def scopes(session: AsyncSession) -> list[spend.SpendScope]:
    """Every period above and some random ones, unfiltered, by team, by category, by both, and by an
    employee (which the rollup cannot answer)."""
    company = await first_id(session, select(Company.id).where(Company.slug == "acme"))
    team = await first_id(session, select(Team.id).where(Team.company_id == company))
    category = await first_id(session, select(Category.id).where(Category.company_id == company))
    employee = await first_id(session, select(Employee.id).where(Employee.company_id == company))
    filters = [{}, {"team_id": team}, {"category_id": category}, {"team_id": team, "category_id": category}]
    found = [
        spend.SpendScope(company_id=company, date_from=start, date_to=end, **kept)
        for start, end in [*PERIODS, *random_periods(30)]
        for kept in filters
    ]
    return [
        *found,
        spend.SpendScope(
            company_id=company, date_from=D(2026, 1, 1), date_to=D(2026, 6, 30), employee_id=employee
        ),
    ]


def by_key(rows: list[spend.GroupRow]) -> dict[str | None, spend.GroupRow]:
    found = {row.key: row for row in rows}
    assert len(found) == len(rows)
    return found


async def test_the_rollup_answers_exactly_what_the_expenses_do(
    fresh_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with connect(server_for(fresh_url), "auto") as client:
        applied = await call_ok(client, "categorize_expenses", {"apply": True, "limit": 1000})
    assert applied["applied"] > 0
    assert await rollup_drift(fresh_url) == set()

    async with sessions() as session:
        for scope in await scopes(session):
            for group_by in ("category", "team", "month", "merchant", "employee"):
                expected = by_key(await spend.base_totals(session, scope, group_by))
                assert by_key(await spend.grouped_totals(session, scope, group_by)) == expected, (
                    scope,
                    group_by,
                )


async def test_whole_months_are_read_from_the_rollup(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        [company, *_] = (await session.scalars(select(Company.id).where(Company.slug == "acme"))).all()
        await session.execute(delete(SpendMonthly))
        whole_half = spend.SpendScope(company_id=company, date_from=D(2026, 1, 1), date_to=D(2026, 6, 30))
        edges_only = spend.SpendScope(company_id=company, date_from=D(2026, 1, 2), date_to=D(2026, 1, 30))

        assert await spend.grouped_totals(session, whole_half, "category") == []
        assert await spend.base_totals(session, whole_half, "category") != []
        assert by_key(await spend.grouped_totals(session, edges_only, "team")) == by_key(
            await spend.base_totals(session, edges_only, "team")
        )
        await session.rollback()


@pytest.mark.parametrize(
    ("group_by", "rollup"), [("merchant", MerchantMonthly), ("employee", EmployeeMonthly)]
)
async def test_a_company_wide_merchant_or_employee_grouping_reads_its_rollup(
    sessions: async_sessionmaker[AsyncSession],
    group_by: GroupBy,
    rollup: type[MerchantMonthly] | type[EmployeeMonthly],
) -> None:
    async with sessions() as session, session.begin():
        [company, *_] = (await session.scalars(select(Company.id).where(Company.slug == "acme"))).all()
        team = await first_id(session, select(Team.id).where(Team.company_id == company))
        await session.execute(delete(rollup))
        whole_half = spend.SpendScope(company_id=company, date_from=D(2026, 1, 1), date_to=D(2026, 6, 30))
        one_team = spend.SpendScope(
            company_id=company, date_from=D(2026, 1, 1), date_to=D(2026, 6, 30), team_id=team
        )

        assert await spend.grouped_totals(session, whole_half, group_by) == []
        assert await spend.base_totals(session, whole_half, group_by) != []
        # The rollups have no teams: a team's groups come from its expenses.
        assert by_key(await spend.grouped_totals(session, one_team, group_by)) == by_key(
            await spend.base_totals(session, one_team, group_by)
        )
        await session.rollback()


async def uncategorized_slice(url: str) -> list[int]:
    """The uncategorized expenses of the (team, month) with the most of them."""
    rows = await raw(
        url,
        "SELECT team_id, date_trunc('month', spent_on), array_agg(id ORDER BY id) FROM expenses "
        "WHERE category_id IS NULL GROUP BY 1, 2 ORDER BY COUNT(*) DESC LIMIT 1",
    )
    ids = list(rows[0][2])
    assert len(ids) >= 4
    return ids


async def categorize_as_a_tool_call(
    session: AsyncSession, url: str, company: int, category: int, ids: list[int]
) -> set[int]:
    """What categorize_expenses does for a batch, as the tool-call role: lock what is still open, write."""
    await enter_tenant(session, Settings(database_url=url), company)
    still_open = await categorize.still_uncategorized(session, company, ids)
    chosen = [
        categorize.Assignment(i, f"id-{i}", category, "X", "model", 0.99, "model") for i in sorted(still_open)
    ]
    await categorize.apply(session, company, chosen, actor="test", model_version=None)
    return still_open


async def until_someone_waits_for_a_lock(session: AsyncSession) -> None:
    waiting = text(
        "SELECT COUNT(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with anyio.fail_after(10):
        while not await session.scalar(waiting):
            await session.commit()  # pg_stat_activity stays as first read until the transaction ends
            await anyio.sleep(0.01)


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("overlap", [True, False], ids=["overlapping", "disjoint_same_month"])
async def test_concurrent_categorizations_keep_the_rollup_exact(
    fresh_url: str, sessions: async_sessionmaker[AsyncSession], overlap: bool
) -> None:
    """The second call must wait for the first: on the expenses both want (overlapping batches), or on
    the month both recount (disjoint batches); counting without the other's rows would drift."""
    ids = await uncategorized_slice(fresh_url)
    [(company, category)] = await raw(
        fresh_url,
        "SELECT c.id, MIN(k.id) FROM companies c JOIN categories k ON k.company_id = c.id "
        "WHERE c.slug = 'acme' GROUP BY c.id",
    )
    first_batch, second_batch = (ids[:2], ids[1:4]) if overlap else (ids[:2], ids[2:4])
    written: list[set[int]] = []

    async def second() -> None:
        async with sessions() as session, session.begin():
            written.append(
                await categorize_as_a_tool_call(session, fresh_url, company, category, second_batch)
            )

    async with (
        anyio.create_task_group() as tasks,
        sessions() as watcher,
        sessions() as session,
        session.begin(),  # committed before the task group waits for the second call
    ):
        written.append(await categorize_as_a_tool_call(session, fresh_url, company, category, first_batch))
        tasks.start_soon(second)
        await until_someone_waits_for_a_lock(watcher)

    assert written == [set(first_batch), set(second_batch) - set(first_batch)]
    assert await rollup_drift(fresh_url) == set()
