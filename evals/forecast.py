"""`outlay eval forecast`: rolling-origin backtests of the budget forecast on one company's books.

Both questions are answered by the engine itself (`tools.forecast`), never by a copy of it:

1. Point accuracy. Every budget scope (a team, or a team and a category) is a monthly series. From
   each of the last `origins` month ends that have three complete months after them, the engine's
   `monthly_forecast` predicts those three month totals, and the M4 benchmarks (naive, seasonal naive,
   naive2) predict them from the scope's complete months up to the origin (at most 36; the history
   is loaded as the engine read it on each origin, HISTORY_DAYS back from there). Scored with
   M4's sMAPE, MASE and OWA against naive2 (`evals/forecast_metrics.py`): overall, per horizon and per
   series type, for every model asked for.
2. Calibration and the period total. Every budget whose period has ended, and which starts at least a
   month into its scope's history, is forecast as `forecast_budget` would have forecast it from the day
   before it starts and every 10th day after (`evals/forecast_periods.py`), with the calibration the
   service would have used that day (`calibrate_scopes` on the team and the category histories as they
   stood). Scored per origin bucket (the share of the period gone: early, middle, late) and per series
   type (`shape_of`: the synthetic company's team names say it; "short history" for a budget that starts
   less than six months into its scope's history): the actual total inside the 80% and
   95% intervals, the Brier score of the overrun probability against that of the base rate, and the APE
   of the expected total against the naive baselines' (`evals/forecast_buckets.py`).

`outlay eval forecast --dataset calderdale|birmingham` runs the same on real monthly series instead of a
loaded company (`evals/forecast_real.py`).

`project` and `calibrate` are timed as they run. JSON and Markdown go to
`var/evals/forecast-<company>.{json,md}` (`evals/forecast_report.py` writes them; `--out evals/results`:
the committed ones).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from evals import forecast_report
from evals.folders import RESULTS
from evals.forecast_metrics import mase_scale, naive, naive2, seasonal_naive
from evals.forecast_periods import (
    INSAMPLE_MONTHS,
    Calibrations,
    Outcome,
    Period,
    Timings,
    month_sums,
    monthly_totals,
    period_outcomes,
)
from evals.forecast_report import Point, Series, markdown, write
from evals.reports import company_named
from server.context import Clock
from server.db.engine import create_engine, create_session_factory
from server.settings import Settings
from tools.forecast import queries
from tools.forecast.engine import DEFAULT_MODEL, monthly_forecast
from tools.forecast.history import ScopeHistory, add_months, month_end, month_index
from tools.forecast.model import ModelName
from tools.forecast.queries import BudgetRow, Scope

__all__ = ["RESULTS", "markdown", "parse_models", "run", "write"]

HORIZON = 3
# A budget is scored when its scope has a month of history before it starts; with fewer than
# SHORT_MONTHS, its series type is "short history" whatever the team's shape.
WARM_UP_MONTHS = 1
SHORT_MONTHS = 6
MODELS: tuple[ModelName, ...] = get_args(ModelName)
# The series types of issue 18, found in a team's name: the synthetic company's teams (Steady, Trend,
# Seasonal, Shift, Sparse, Newcomer) are named after their shape; Steady carries the subscriptions.
SHAPES = (
    ("season", "seasonal"), ("trend", "trend"), ("shift", "level shift"), ("level", "level shift"),
    ("sparse", "sparse"), ("subscri", "subscriptions"), ("steady", "subscriptions"),
    ("newcomer", "short history"), ("short", "short history"), ("declin", "decline"),
)  # fmt: skip


@dataclass(frozen=True)
class Books:
    slug: str
    today: dt.date
    budgets: list[BudgetRow]
    histories: dict[Scope, ScopeHistory]  # every budget scope and every team, as of today
    teams: list[Scope]
    categories: list[Scope]  # the (team, category) scopes the company budgets for
    shapes: dict[str, str] = field(default_factory=dict)  # team name -> series type
    ends: dict[Scope, dt.date] = field(default_factory=dict)  # the last complete day, where before today

    def end_of(self, scope: Scope) -> dt.date:
        return self.ends.get(scope, self.today)


def shape_of(team: str) -> str:
    """The series type a team's name gives (issue 18's types), else "other"."""
    name = team.casefold()
    return next((shape for word, shape in SHAPES if word in name), "other")


def parse_models(text: str) -> list[ModelName]:
    """`theta,ets` -> the models to backtest, in order, each once; ValueError names the choices."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    chosen = [model for name in names for model in MODELS if model == name]
    if not names or len(chosen) != len(names):
        unknown = ", ".join(repr(name) for name in names if name not in MODELS) or "none given"
        raise ValueError(f"unknown model(s) {unknown}: choose from {', '.join(MODELS)}")
    return list(dict.fromkeys(chosen))


async def run(
    settings: Settings,
    *,
    company: str | None = None,
    origins: int = 12,
    models: Sequence[ModelName] = (DEFAULT_MODEL,),
) -> dict[str, Any]:
    started = time.perf_counter()
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            books = await load(session, company or settings.company, Clock(settings.today).today())
    finally:
        await engine.dispose()
    backend = make_url(settings.database_url).get_backend_name()
    return evaluate(books, origin_months(books.today, origins), models, backend=backend, started=started)


def evaluate(
    books: Books,
    months: Sequence[int],
    models: Sequence[ModelName],
    *,
    backend: str,
    started: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Both backtests on `books` (loaded since `started`, a perf_counter reading): the report."""
    load_seconds = time.perf_counter() - started
    points, skipped = baseline_points(books, months)
    seconds: dict[str, float] = {model: forecast_points(books, points, model) for model in models}
    timings = Timings()
    outcomes = calibration_outcomes(books, timings)
    return forecast_report.build(
        company=books.slug,
        backend=backend,
        today=books.today,
        months=months,
        series=budget_series(books),
        points=points,
        skipped=skipped,
        model_seconds=seconds,
        outcomes=outcomes,
        periods=len(scored_budgets(books)),
        timings=timings.calls,
        seconds={"load": load_seconds, "total": time.perf_counter() - started},
        horizon=HORIZON,
        extra=extra,
    )


async def load(session: AsyncSession, slug: str | None, today: dt.date) -> Books:
    company = await company_named(session, slug)
    budgets = await queries.budgets_overlapping(session, company.id, dt.date.min, dt.date.max)
    teams = await queries.all_teams(session, company.id)
    categories = await queries.category_scopes(session, company.id)
    scopes = {row.scope for row in budgets} | set(teams) | set(categories)
    # The eval cuts histories on any day (day 30 of a quarter), so it reads them day by day; and an origin
    # months ago read HISTORY_DAYS back from there, so the window before today's is loaded too. Both take
    # today's company calendar (`joined` keeps it), read once.
    calendar = await queries.company_days(session, company.id, today)
    recent = await queries.histories(
        session, company.id, scopes, today, exact_from=dt.date.min, calendar=calendar
    )
    before = today - dt.timedelta(days=queries.HISTORY_DAYS + 1)
    older = await queries.histories(
        session, company.id, scopes, before, exact_from=dt.date.min, calendar=calendar
    )
    histories = {scope: joined(older[scope], recent[scope]) for scope in scopes}
    shapes = {row.team: shape_of(row.team) for row in budgets}
    return Books(company.slug, today, budgets, histories, teams, categories, shapes)


def joined(older: ScopeHistory, recent: ScopeHistory) -> ScopeHistory:
    """One scope's history from an older window and today's, which may overlap: the older one counts
    until the first day the recent one has spend."""
    if not older.daily:
        return recent
    cut = min(recent.daily, default=dt.date.max)
    charges = tuple(charge for charge in older.charges if charge.on < cut) + recent.charges
    # A merchant charged once in each window is charged twice: single in neither.
    singles = tuple(charge for charge in older.singles if charge.on < cut) + recent.singles
    seen = Counter(charge.merchant_id for charge in (*charges, *singles))
    return ScopeHistory(
        daily={**{day: amount for day, amount in older.daily.items() if day < cut}, **recent.daily},
        first_day=min(older.first_day, recent.first_day),
        charges=charges,
        known_minor=recent.known_minor,
        calendar=recent.calendar,
        singles=tuple(charge for charge in singles if seen[charge.merchant_id] == 1),
    )


def origin_months(today: dt.date, count: int) -> list[int]:
    """Month indexes of the last `count` month ends followed by HORIZON complete months."""
    last_complete = month_index(today + dt.timedelta(days=1)) - 1
    latest = last_complete - HORIZON
    return list(range(latest - count + 1, latest + 1))


def kind_of(scope: Scope) -> str:
    return "team" if scope.category_id is None else "team+category"


def budget_series(books: Books) -> list[Series]:
    """The distinct budget scopes as series, by name ("Sales", "Sales / TRAVEL")."""
    names = {
        row.scope: row.team if row.category is None else f"{row.team} / {row.category}"
        for row in books.budgets
    }
    shapes = {row.scope: books.shapes.get(row.team, "other") for row in books.budgets}
    return sorted(
        (Series(scope, kind_of(scope), name, shapes[scope]) for scope, name in names.items()),
        key=lambda s: s.label,
    )


def baseline_points(books: Books, months: Sequence[int]) -> tuple[list[Point], Counter[str]]:
    """One point per series and origin with the actuals, the MASE scale and the M4 benchmarks."""
    points: list[Point] = []
    skipped: Counter[str] = Counter()
    for series in budget_series(books):
        history = books.histories[series.scope]
        first, sums = history.first_full_month, month_sums(history)
        last = month_index(books.end_of(series.scope) + dt.timedelta(days=1)) - 1  # the last complete month
        for origin in months:
            if origin + HORIZON > last:
                skipped["the series ends before the horizon"] += 1
                continue
            insample = monthly_totals(sums, max(first, origin - INSAMPLE_MONTHS + 1), origin)
            scale = mase_scale(insample)
            if len(insample) < 2:
                skipped["fewer than 2 complete months before the origin"] += 1
                continue
            if scale.value is None:
                skipped["in-sample never changes: MASE undefined"] += 1
                continue
            benchmark = naive2(insample, HORIZON)
            forecasts = {
                "naive": naive(insample, HORIZON),
                "snaive": seasonal_naive(insample, HORIZON),
                "naive2": benchmark.forecast,
            }
            actual = monthly_totals(sums, origin + 1, origin + HORIZON)
            points.append(Point(series, origin, actual, scale, benchmark.seasonal, forecasts))
    return points, skipped


def forecast_points(books: Books, points: Sequence[Point], model: ModelName) -> float:
    """The engine's forecast of every point with `model`; the seconds it took."""
    if points:  # the first fit imports statsforecast (pandas, statsmodels): not part of a model's time
        monthly_forecast(books.histories[points[0].series.scope], month_end(points[0].origin), HORIZON, model)
    started = time.perf_counter()
    for point in points:
        as_of = month_end(point.origin)
        point.forecasts[model] = monthly_forecast(books.histories[point.series.scope], as_of, HORIZON, model)
    return time.perf_counter() - started


def scored_budgets(books: Books) -> list[BudgetRow]:
    return [
        row
        for row in books.budgets
        if row.end < books.today
        and row.start >= add_months(books.histories[row.scope].first_day, WARM_UP_MONTHS)
    ]


def period_shape(books: Books, row: BudgetRow) -> str:
    if row.start < add_months(books.histories[row.scope].first_day, SHORT_MONTHS):
        return "short history"
    return books.shapes.get(row.team, "other")


def calibration_outcomes(books: Books, timings: Timings) -> list[Outcome]:
    """Each ended budget forecast from every 10th day, as forecast_budget would have on those days."""
    periods = [
        Period(row.scope, kind_of(row.scope), period_shape(books, row), row.start, row.end, row.amount_minor)
        for row in scored_budgets(books)
    ]
    calibrations = Calibrations(
        teams=[(books.histories[scope], books.end_of(scope)) for scope in books.teams],
        categories=[(books.histories[scope], books.end_of(scope)) for scope in books.categories],
        timings=timings,
    )
    return period_outcomes(periods, books.histories, calibrations)
