"""`outlay eval forecast` end to end: a small company whose spend has a known trend and season, its
budgets, the backtests through the engine, and the command writing JSON and Markdown."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from sqlalchemy import select

from evals import forecast
from evals.forecast_metrics import Scale
from evals.forecast_report import Point, Series, fragility, summary
from server.cli import main
from server.db.engine import create_engine, create_session_factory
from server.db.models import Category, Expense, Team
from server.db.rollups import rebuild_spend_rollups
from server.settings import Settings
from tests import factories as f
from tests.conftest import BACKENDS
from tools.forecast.history import Charge, ScopeHistory, month_index, month_start
from tools.forecast.queries import Scope

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.db.models import Category, Company, Team

TODAY = dt.date(2026, 6, 30)
FIRST_MONTH = month_index(dt.date(2024, 1, 1))  # 30 months of history up to TODAY
SEASON = [0.8, 0.9, 1.0, 1.1, 1.2, 1.0, 0.9, 0.7, 1.0, 1.1, 1.2, 1.1]
DAYS = (1, 10, 19)  # three expenses a month, at merchants taken in turn: nothing bills on a schedule
# scope -> (level in the first month, growth a month): Sales' total also holds its meals
SERIES = {"Platform/CLOUD": (3000.0, 60.0), "Sales/TRAVEL": (2000.0, 40.0), "Sales/MEALS": (500.0, 5.0)}


def expected(scope: str, index: int) -> float:
    """The true mean of a scope's month: a team's is the sum of its categories'."""
    if scope not in SERIES:
        return sum(expected(name, index) for name in SERIES if name.startswith(f"{scope}/"))
    level, growth = SERIES[scope]
    t = index - FIRST_MONTH
    return (level + growth * t) * SEASON[index % 12]


async def _seed(url: str) -> None:
    noise = random.Random(11)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            company = await f.make_company(session, slug="trendco")
            refs = iter(range(1, 10_000))
            for team_name, scopes in (
                ("Platform", ["Platform/CLOUD"]),
                ("Sales", ["Sales/TRAVEL", "Sales/MEALS"]),
            ):
                team = await f.make_team(session, company=company, name=team_name)
                person = await f.make_employee(session, company=company, team=team, name=f"{team_name} Lead")
                for scope in scopes:
                    code = scope.split("/")[-1].upper()
                    category = await f.make_category(session, company=company, code=code)
                    shops = [
                        await f.make_merchant(session, company=company, name=f"{code} shop {n}")
                        for n in range(3)
                    ]
                    for index in range(FIRST_MONTH, month_index(TODAY) + 1):
                        for k, day in enumerate(DAYS):
                            amount = expected(scope, index) / len(DAYS) * noise.uniform(0.97, 1.03)
                            await f.make_expense(
                                session,
                                company=company,
                                employee=person,
                                merchant=shops[(index + k) % 3],
                                ref=f"EXP-{next(refs):05d}",
                                spent_on=month_start(index).replace(day=day),
                                amount=f"{amount:.2f}",
                                category=category,
                            )
                await _budgets(session, company, team, team_name, None)
            travel = (await session.scalars(select(Category).where(Category.code == "TRAVEL"))).one()
            await _budgets(session, company, team, "Sales/TRAVEL", travel)
            await rebuild_spend_rollups(session, company.id)  # as an import does: the forecast reads them
    finally:
        await engine.dispose()


async def _budgets(
    session: AsyncSession, company: Company, team: Team, scope: str, category: Category | None
) -> None:
    for quarter in range(10):  # 2024-Q1 .. 2026-Q2, alternately a little over and under the true mean
        first = FIRST_MONTH + 3 * quarter
        total = sum(expected(scope, index) for index in range(first, first + 3))
        period = f"{month_start(first).year}-Q{quarter % 4 + 1}"
        amount = f"{total * (0.97 if quarter % 2 else 1.03):.2f}"
        await f.make_budget(
            session, company=company, team=team, category=category, period=period, amount=amount
        )


@pytest.fixture(scope="module", params=BACKENDS)
def trendco(request: pytest.FixtureRequest, make_database: Callable[[str], str]) -> str:
    url = make_database(str(request.param))
    asyncio.run(_seed(url))
    return url


def test_the_backtests_score_the_engine_against_the_m4_benchmarks(trendco: str) -> None:
    report = asyncio.run(forecast.run(Settings(database_url=trendco, today=TODAY), models=["theta", "ets"]))

    assert (report["company"], report["today"], report["origins"]) == ("trendco", "2026-06-30", 12)
    assert (report["origin_months"][0], report["origin_months"][-1]) == ("2025-04", "2026-03")
    series = report["series"]
    assert (series["scopes"], series["by_type"], series["forecasts"]) == (
        3,
        {"team": 2, "team+category": 1},
        36,
    )
    assert series["naive2_seasonal"] == 0  # at most 27 months in sample: M4 tests seasonality from 36
    assert list(report["models"]) == ["theta", "ets"]
    assert series["scored"] == 3
    for found in (*report["models"].values(), *report["baselines"].values()):
        assert set(found["by_horizon"]) == {"1", "2", "3"}
        assert set(found["by_series_type"]) == {"team", "team+category"}
        assert list(found["by_series"]) == ["Platform", "Sales", "Sales / TRAVEL"]
    baselines, ets = report["baselines"], report["models"]["ets"]
    assert baselines["naive2"]["owa"] == 1.0
    assert baselines["naive2"]["smape"] == baselines["naive"]["smape"]
    # On a trend and a season the engine must beat the last value, on both measures.
    assert ets["owa"] < 0.85
    assert ets["smape"] < baselines["naive"]["smape"]
    assert ets["mase"] < baselines["naive"]["mase"]

    calibration = report["calibration"]
    # 2024-Q2 .. 2026-Q1 (a month of history before each) for three budgets, each from the day before it
    # starts and every 10th day after: days 0..90 of a 91- or 92-day quarter (10 days: 4 early, 3 middle,
    # 3 late), 0..80 of the two 90-day ones (9: day 30 is a third gone, so 3 in each bucket): 78 days.
    assert (calibration["periods"], calibration["n"]) == (24, 3 * 78)
    buckets = calibration["by_bucket"]
    assert list(buckets) == ["early", "middle", "late"]
    assert [buckets[name]["n"] for name in buckets] == [3 * (6 * 4 + 2 * 3), 3 * 8 * 3, 3 * 8 * 3]
    assert sum(found["ape"]["n"] + found["ape"]["left_out"] for found in buckets.values()) == 3 * 78
    # The teams' names give no series type; 2024-Q2 starts under six months into the history.
    assert {
        shape: sum(found["n"] for found in by.values()) for shape, by in calibration["by_shape"].items()
    } == {
        "other": 3 * (78 - 10),
        "short history": 3 * 10,
    }
    assert 0.0 <= calibration["brier"] <= 1.0
    assert calibration["coverage_80"] <= calibration["coverage_95"]
    assert [target["met"] for target in report["issue_18"]][-1] is None  # latency: the bench measures it
    assert {name: found["calls"] for name, found in report["latency"].items()} == {
        "calibrate": 78,  # the budgets of a quarter share their as-of days
        "project": 3 * 78,
    }


def test_the_baselines_match_a_direct_computation_from_the_expenses(trendco: str) -> None:
    report = asyncio.run(forecast.run(Settings(database_url=trendco, today=TODAY), models=[]))
    months = asyncio.run(_monthly_totals(trendco))  # Jan 2024 .. Jun 2026, per budget scope
    smapes: dict[str, list[float]] = {"naive": [], "snaive": []}
    ases: dict[str, list[float]] = {"naive": [], "snaive": []}
    for totals in months.values():
        for origin in range(15, 27):  # 2025-04 .. 2026-03
            insample, actual = totals[: origin + 1], totals[origin + 1 : origin + 4]
            scale = sum(abs(insample[t] - insample[t - 12]) for t in range(12, len(insample))) / (
                len(insample) - 12
            )
            for method, guess in (("naive", [insample[-1]] * 3), ("snaive", insample[-12:-9])):
                for y, f_ in zip(actual, guess, strict=True):
                    smapes[method].append(200 * abs(y - f_) / (abs(y) + abs(f_)))
                    ases[method].append(abs(y - f_) / scale)

    for method in ("naive", "snaive"):
        found = report["baselines"][method]
        assert found["smape"] == pytest.approx(sum(smapes[method]) / 108, abs=1e-4)
        assert found["mase"] == pytest.approx(sum(ases[method]) / 108, abs=1e-4)


async def _monthly_totals(url: str) -> dict[str, list[float]]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.execute(
                select(Team.name, Category.code, Expense.spent_on, Expense.amount_company_minor)
                .join(Team, Team.id == Expense.team_id)
                .join(Category, Category.id == Expense.category_id)
            )
            totals: dict[str, list[float]] = {
                scope: [0.0] * 30 for scope in ("Platform", "Sales", "Sales/TRAVEL")
            }
            for team, code, day, amount in rows:
                for scope in (team, f"{team}/{code}"):
                    if scope in totals:
                        totals[scope][month_index(day) - FIRST_MONTH] += amount
            return totals
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def trendco_sqlite(make_database: Callable[[str], str]) -> str:
    url = make_database("sqlite")
    asyncio.run(_seed(url))
    return url


def test_the_command_backtests_each_model_and_writes_json_and_markdown(
    trendco_sqlite: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OUTLAY_DATABASE_URL", trendco_sqlite)
    monkeypatch.setenv("OUTLAY_TODAY", TODAY.isoformat())
    monkeypatch.delenv("OUTLAY_COMPANY", raising=False)

    code = main(["eval", "forecast", "--out", str(tmp_path), "--origins", "3", "--models", "theta,ets"])

    assert code == 0
    report = json.loads((tmp_path / "forecast-trendco.json").read_text())
    assert list(report["models"]) == ["theta", "ets"]
    assert list(report["baselines"]) == ["naive", "snaive", "naive2"]
    assert (report["origins"], report["series"]["forecasts"]) == (3, 9)
    markdown = (tmp_path / "forecast-trendco.md").read_text()
    assert capsys.readouterr().out == markdown
    assert "| **ets** (engine) |" in markdown


def test_an_older_window_and_todays_make_one_history() -> None:
    old, shared = Charge(1, "AWS", dt.date(2022, 5, 2), 900), Charge(1, "AWS", dt.date(2022, 6, 2), 950)
    older = ScopeHistory(
        daily={dt.date(2022, 5, 2): 900, dt.date(2022, 6, 2): 950},
        first_day=dt.date(2022, 5, 2),
        charges=(old, shared),
    )
    recent = ScopeHistory(  # the windows overlap from June: its days and charges count once
        daily={dt.date(2022, 6, 2): 950, dt.date(2025, 1, 3): 50},
        first_day=dt.date(2022, 6, 2),
        charges=(shared,),
        known_minor=7,
    )

    assert forecast.joined(older, recent) == ScopeHistory(
        daily={dt.date(2022, 5, 2): 900, dt.date(2022, 6, 2): 950, dt.date(2025, 1, 3): 50},
        first_day=dt.date(2022, 5, 2),
        charges=(old, shared),
        known_minor=7,
    )
    assert forecast.joined(ScopeHistory(daily={}, first_day=dt.date(2022, 1, 1)), recent) == recent


def test_the_command_names_the_models_it_knows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "forecast", "--models", "theta,arima"]) == 2
    assert "unknown model(s) 'arima': choose from theta, ets, theta+ets" in capsys.readouterr().err


def test_the_report_says_how_much_the_owa_rests_on_the_forecasts_naive2_misses_most() -> None:
    def point(number: int, actual: float, naive2: float, engine: float, scale: float = 10.0) -> Point:
        series = Series(Scope(number), "team", f"S{number}")
        forecasts = {"naive2": np.full(3, naive2), "theta": np.full(3, engine)}
        return Point(series, 0, np.full(3, actual), Scale(scale, 12), False, forecasts)

    # A birth against a tiny scale (naive2 misses by 1,000 scales) and five ordinary forecasts.
    points = [point(1, 1000.0, 0.0, 0.0, scale=1.0), *(point(n, 100.0, 110.0, 105.0) for n in range(2, 7))]
    found = fragility(points, "theta")

    assert [one["left_out"] for one in found] == [1, 5]
    assert found[0]["naive2_mase_share"] == pytest.approx(1000 / 1005, abs=1e-4)
    assert (
        found[0]["owa"]
        == summary(points[1:], "theta")["owa"]
        == pytest.approx(0.5 * ((5 / 205) / (10 / 210) + 0.5), abs=1e-4)
    )
    assert found[1]["naive2_mase_share"] == pytest.approx(1004 / 1005, abs=1e-4)
    assert fragility(points[:1], "theta") == []  # nothing would be left
