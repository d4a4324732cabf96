"""The forecast's history read: summed by thirds of a month before the recent window, it must give the
engine the same totals as a day-by-day read at every cut the engine makes (month ends, the 10th, the
20th), for team and category scopes, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from server.db.engine import create_engine, create_session_factory
from server.db.models import Company
from tests.forecast.conftest import SLUG, TODAY
from tools.forecast import queries
from tools.forecast.engine import BACKTEST_DAYS
from tools.forecast.history import month_end, month_index, month_start


@pytest.mark.anyio
async def test_a_read_by_thirds_has_the_day_by_day_totals_at_every_cut(synthetic_url: str) -> None:
    engine = create_engine(synthetic_url)
    try:
        async with create_session_factory(engine)() as session:
            company = (await session.scalars(select(Company.id).where(Company.slug == SLUG))).one()
            scopes = {
                *(await queries.all_teams(session, company)),
                *(await queries.category_scopes(session, company)),
            }
            coarse = await queries.histories(session, company, scopes, TODAY)
            exact = await queries.histories(session, company, scopes, TODAY, exact_from=dt.date.min)
    finally:
        await engine.dispose()

    assert any(scope.category_id is not None for scope in scopes)
    # The coarse read really is coarser (else this test compares a read with itself).
    days = {
        read: sum(len(history.daily) for history in found.values())
        for read, found in (("coarse", coarse), ("exact", exact))
    }
    assert days["coarse"] < days["exact"]
    for scope in scopes:
        first = month_index(exact[scope].first_day)
        for index in range(first, month_index(TODAY)):
            start = month_start(index)
            cuts = [start + dt.timedelta(days=day - 1) for day in BACKTEST_DAYS[1:]] + [month_end(index)]
            for cut in cuts:
                assert coarse[scope].total(start, cut) == exact[scope].total(start, cut), (scope, cut)
