"""A grouping over the expenses is planned for its period on every run (PostgreSQL): asyncpg prepares
every statement, and after five runs PostgreSQL may switch to a generic plan costed without the
period, which on the 1.7 M-expense company expected 8,660 rows of a year's 594,741 and dropped the
parallel scan (docs/benchmarks.md). Without `plan_each_run` this world's grouping ran 3 generic plans of 8."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from server.db.engine import create_engine, create_session_factory
from tests.world import raw
from tools.spend import queries as spend

pytestmark = pytest.mark.anyio

PLANS = text(
    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
    " WHERE statement LIKE '%GROUP BY merchants.id%' AND statement NOT LIKE '%pg_prepared_statements%'"
)


async def test_a_grouping_over_the_expenses_never_runs_a_generic_plan(
    seeded_url: str, anyio_backend: str
) -> None:
    if not seeded_url.startswith("postgresql"):
        pytest.skip("SQLite plans every statement anew")
    [(company_id, team_id)] = await raw(
        seeded_url,
        "SELECT c.id, min(t.id) FROM companies c JOIN teams t ON t.company_id = c.id"
        " WHERE c.slug = 'acme' GROUP BY c.id",
    )
    # A team's merchants: the company-wide ones come from the merchant_monthly rollup.
    scope = spend.SpendScope(
        company_id=company_id, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31), team_id=team_id
    )
    engine = create_engine(seeded_url)
    try:
        async with create_session_factory(engine)() as session:
            for _ in range(8):
                async with session.begin():
                    assert await spend.grouped_totals(session, scope, "merchant")
            plans = (await session.execute(PLANS)).all()
    finally:
        await engine.dispose()

    assert plans == [(0, 8)]
