"""forecast_budget and forecast_budgets through a real MCP client, on the synthetic company whose spend
has known structure (evals/datasets/synthetic.py): every number is checked against hand-written SQL or
against the structure the company was generated with."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs ship with it; it comes with mcp
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp_types import ImageContent, TextContent, ToolAnnotations
from sqlalchemy import Date, bindparam, text

from evals.datasets.synthetic import TEAMS, SyntheticTruth
from server.context import AppContext
from server.db.engine import create_engine
from server.kit.money import to_minor
from tests.forecast.conftest import OTHER, SLUG, TODAY
from tests.world import call_error, call_ok, connect, raw
from tools.forecast.engine import MIN_BUCKET
from tools.forecast.schemas import BudgetForecast, BudgetRanking

pytestmark = pytest.mark.anyio

Q2 = (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
Q3 = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
TOMORROW = TODAY + dt.timedelta(days=1)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
Budgets = dict[tuple[str, str | None, dt.date], int]  # (team, category code, period start): amount


def minor(amount: str | None) -> int:
    assert amount is not None
    return to_minor(amount, "EUR")


async def forecast(client: Client, **arguments: Any) -> BudgetForecast:
    return BudgetForecast.model_validate(await call_ok(client, "forecast_budget", arguments))


async def ranking(client: Client, **arguments: Any) -> BudgetRanking:
    return BudgetRanking.model_validate(await call_ok(client, "forecast_budgets", arguments))


async def spent_in_sql(
    url: str, team: str, start: dt.date, end: dt.date, *, category: str | None = None, slug: str = SLUG
) -> int:
    rows = await raw(
        url,
        "SELECT COALESCE(SUM(e.amount_company_minor), 0) FROM expenses e "
        "JOIN companies c ON c.id = e.company_id JOIN teams t ON t.id = e.team_id "
        "LEFT JOIN categories cat ON cat.id = e.category_id "
        "WHERE c.slug = :slug AND t.name = :team AND e.spent_on BETWEEN :start AND :end "
        "AND (cat.code = :category OR :category = '')",
        slug=slug,
        team=team,
        start=start,
        end=end,
        category=category or "",
    )
    return int(rows[0][0])


async def budgets_in_sql(url: str, start: dt.date, end: dt.date, *, slug: str = SLUG) -> Budgets:
    """The budgets overlapping start..end."""
    rows = await raw(
        url,
        "SELECT t.name, cat.code, b.period_start, b.amount_minor FROM budgets b "
        "JOIN companies c ON c.id = b.company_id JOIN teams t ON t.id = b.team_id "
        "LEFT JOIN categories cat ON cat.id = b.category_id "
        "WHERE c.slug = :slug AND b.period_start <= :end AND b.period_end >= :start",
        slug=slug,
        start=start,
        end=end,
    )
    return {(team, code, dt.date.fromisoformat(str(day))): int(amount) for team, code, day, amount in rows}


async def execute(url: str, sql: str, **params: Any) -> None:
    """A committed write: the one test that needs a budget the company does not have adds it."""
    dates = [bindparam(name, type_=Date()) for name, value in params.items() if isinstance(value, dt.date)]
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(sql).bindparams(*dates), params)
    finally:
        await engine.dispose()


def months_between(start: dt.date, end: dt.date) -> list[str]:
    first, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    return [f"{index // 12}-{index % 12 + 1:02d}" for index in range(first, last + 1)]


def month_kind(month: str) -> str:
    first = dt.date.fromisoformat(f"{month}-01")
    return "forecast" if first > TODAY else "partial" if f"{TODAY:%Y-%m}" == month else "actual"


def assert_consistent(result: BudgetForecast) -> None:
    """What every forecast promises: nested intervals around an expected total made of its components,
    and a path over every month of the period that adds up to it."""
    spent, expected, end = minor(result.spent_to_date), minor(result.forecast.expected), result.forecast
    parts = result.components

    assert spent <= expected
    assert minor(end.interval_95.low) <= minor(end.interval_80.low) <= expected
    assert expected <= minor(end.interval_80.high) <= minor(end.interval_95.high)
    assert spent + minor(parts.committed) + minor(parts.known) + minor(parts.variable) == expected
    assert minor(parts.spent_to_date) == spent
    assert [point.month for point in result.months] == months_between(result.date_from, result.date_to)
    assert [point.kind for point in result.months] == [month_kind(point.month) for point in result.months]
    assert abs(sum(minor(point.expected) for point in result.months) - expected) <= len(result.months)
    for point in result.months:
        if point.interval_80 is None:
            assert (point.kind, point.expected) == ("actual", point.actual)
        else:
            assert minor(point.actual) <= minor(point.interval_80.low) <= minor(point.expected)
            assert minor(point.expected) <= minor(point.interval_80.high)
    if result.budget is None:
        assert (result.outlook, result.overrun_probability, result.remaining_budget) == (
            "no_budget",
            None,
            None,
        )
    else:
        assert minor(result.remaining_budget) == minor(result.budget) - spent
        over = expected - minor(result.budget)
        assert result.expected_overrun == (f"{over / 100:.2f}" if over > 0 else None)


async def test_both_tools_are_listed_read_only_with_schemas(synthco: Client) -> None:
    tools = {tool.name: tool for tool in (await synthco.list_tools()).tools}

    for name, model in (("forecast_budget", BudgetForecast), ("forecast_budgets", BudgetRanking)):
        tool = tools[name]
        assert tool.annotations == READ_ONLY
        assert tool.title
        assert tool.description
        assert tool.output_schema is not None
        assert set(tool.output_schema["properties"]) == set(model.model_fields)
        parameters = tool.input_schema["properties"]
        assert all(spec.get("description") for spec in parameters.values()), name
        assert "ctx" not in parameters
    assert tools["forecast_budget"].input_schema["required"] == ["team"]
    assert "required" not in tools["forecast_budgets"].input_schema


@pytest.mark.parametrize("team", TEAMS)
async def test_each_team_gets_a_consistent_forecast_of_its_running_quarter(
    synthco: Client, synthetic_url: str, team: str
) -> None:
    schema = {tool.name: tool.output_schema for tool in (await synthco.list_tools()).tools}["forecast_budget"]
    structured = await call_ok(synthco, "forecast_budget", {"team": team})
    jsonschema.validate(structured, schema)
    result = BudgetForecast.model_validate(structured)

    assert_consistent(result)
    assert (result.team, result.category, result.period, result.as_of) == (team, None, "2026-Q3", TODAY)
    assert (result.date_from, result.date_to) == Q3
    assert minor(result.spent_to_date) == await spent_in_sql(synthetic_url, team, Q3[0], TODAY)
    assert minor(result.budget) == (await budgets_in_sql(synthetic_url, *Q3))[team, None, Q3[0]]
    assert [point.kind for point in result.months] == ["partial", "forecast", "forecast"]


@pytest.mark.parametrize("team", ["Steady", "Trend", "Seasonal", "Shift", "Newcomer"])
async def test_the_rest_of_the_quarter_is_forecast_close_to_the_truth(
    synthco: Client, truth: SyntheticTruth, team: str
) -> None:
    result = await forecast(synthco, team=team)
    variable, expected = minor(result.components.variable), truth.expected(team, TOMORROW, Q3[1])

    assert abs(variable - expected) <= 0.15 * expected, (variable, round(expected))


async def test_steady_knows_its_subscription_its_licence_and_its_approved_request(
    synthco: Client, truth: SyntheticTruth
) -> None:
    result = await forecast(synthco, team="Steady")
    charges = {charge.merchant: charge for charge in result.recurring}
    subscription, licence = truth.subscription, truth.licence

    assert set(charges) == {subscription.merchant, licence.merchant}
    assert charges[subscription.merchant].model_dump() == {
        "merchant": subscription.merchant,
        "amount": subscription.amount,
        "cadence": "monthly",
        "last_charged": dt.date(2026, 7, subscription.day),
        "next_charges": [dt.date(2026, 8, subscription.day), dt.date(2026, 9, subscription.day)],
    }
    assert (charges[licence.merchant].cadence, charges[licence.merchant].amount) == ("yearly", licence.amount)
    assert charges[licence.merchant].next_charges == []
    assert minor(result.components.committed) == 2 * minor(subscription.amount)
    # Only the request approved 10 days ago: not the pending one, nor the one approved 200 days ago.
    assert result.components.known == truth.known_amount
    assert result.outlook == "on_track"


async def test_the_yearly_licence_is_committed_in_the_quarter_it_falls_in(
    synthco: Client, truth: SyntheticTruth
) -> None:
    result = await forecast(synthco, team="Steady", period="2027-Q1")
    [licence] = [charge for charge in result.recurring if charge.merchant == truth.licence.merchant]
    charges = minor(truth.licence.amount) + 3 * minor(truth.subscription.amount)

    assert licence.next_charges == [dt.date(2027, truth.licence.month or 0, truth.licence.day)]
    assert minor(result.components.committed) == charges


async def test_trend_is_likely_to_overrun_and_says_when(synthco: Client) -> None:
    result = await forecast(synthco, team="Trend")

    assert result.overrun_probability is not None
    assert result.overrun_probability >= 0.5
    assert result.outlook == "likely_over"
    assert result.projected_overrun_date is not None
    assert TODAY < result.projected_overrun_date <= Q3[1]
    assert result.expected_overrun is not None


async def test_the_rest_of_the_quarter_falls_on_the_companys_working_days(
    synthco: Client,
    synthetic_servers: Callable[[str, str], MCPServer[AppContext]],
    synthetic_url: str,
    era: str,
) -> None:
    """The synthetic company spends on weekdays: the remainder goes to weekdays, so the budget is passed
    on one; given a country, its public holidays weigh in too, and the notes say so."""
    result = await forecast(synthco, team="Trend")
    await execute(synthetic_url, "UPDATE companies SET country = 'GB' WHERE slug = :slug", slug=SLUG)
    try:
        # A new connection: the company's days are read once a day per server lifespan, as calibrations.
        async with connect(synthetic_servers(synthetic_url, SLUG), era) as client:
            in_britain = await forecast(client, team="Trend")
    finally:
        await execute(synthetic_url, "UPDATE companies SET country = NULL WHERE slug = :slug", slug=SLUG)

    assert result.projected_overrun_date is not None
    assert result.projected_overrun_date.weekday() < 5
    [profile] = [note for note in result.method.notes if note.startswith("remaining days weighted")]
    assert "weekends 0.0" in profile
    assert "no public holidays (the company has no country)" in profile
    assert any("GB public holidays" in note for note in in_britain.method.notes)


@pytest.mark.parametrize(("team", "note"), [("Sparse", "intermittent"), ("Newcomer", "3 complete month")])
async def test_sparse_and_short_histories_say_which_fallback_ran(
    synthco: Client, team: str, note: str
) -> None:
    result = await forecast(synthco, team=team)

    assert result.method.variable_model.startswith(("mean of", "median of"))
    assert any(note in line for line in result.method.notes), result.method.notes


async def test_the_model_sees_the_seasonality(synthco: Client, truth: SyntheticTruth) -> None:
    result = await forecast(synthco, team="Seasonal", period="2026-Q4")
    expected = {point.month: minor(point.expected) for point in result.months}

    assert truth.season[12] < truth.season[10]
    assert expected["2026-12"] < expected["2026-10"], expected
    assert result.method.variable_model.startswith(
        "Dynamic Optimized Theta, a damped trend and the median of 9 months (seasonal"
    )


async def test_a_level_shift_is_forecast_at_the_new_level(synthco: Client, truth: SyntheticTruth) -> None:
    september = minor((await forecast(synthco, team="Shift")).months[-1].expected)

    assert september > 1.5 * truth.levels["Shift"], (september, truth.levels["Shift"])


async def test_without_a_budget_running_today_the_default_is_the_current_quarter(
    synthco: Client, truth: SyntheticTruth
) -> None:
    result = await forecast(synthco, team="Steady", category="EQUIPMENT")

    assert (result.period, result.budget, result.outlook) == ("2026-Q3", None, "no_budget")
    assert not any("budget" in note for note in result.method.notes)  # none overlaps: none to name
    assert result.components.known == truth.known_amount  # the approved request is for equipment
    assert_consistent(result)


async def test_a_month_with_only_a_quarterly_budget_has_no_budget_and_a_note(synthco: Client) -> None:
    result = await forecast(synthco, team="Steady", period="2026-08")

    assert (result.period, result.date_from, result.date_to) == (
        "2026-08",
        dt.date(2026, 8, 1),
        dt.date(2026, 8, 31),
    )
    assert (result.budget, result.outlook, result.overrun_probability) == (None, "no_budget", None)
    assert "no budget for exactly 2026-08; budgets overlapping it: 2026-Q3" in result.method.notes
    assert_consistent(result)


async def test_a_year_that_four_quarterly_budgets_tile_has_their_sum(
    synthco: Client, synthetic_url: str
) -> None:
    result = await forecast(synthco, team="Steady", period="2026")
    budgets = await budgets_in_sql(synthetic_url, *YEAR)
    quarters = [amount for (team, code, _), amount in budgets.items() if (team, code) == ("Steady", None)]

    assert len(quarters) == 4
    assert minor(result.budget) == sum(quarters)
    assert "budget: the sum of 4 budgets within the period" in result.method.notes
    assert minor(result.spent_to_date) == await spent_in_sql(synthetic_url, "Steady", YEAR[0], TODAY)
    assert [point.kind for point in result.months] == ["actual"] * 6 + ["partial"] + ["forecast"] * 5
    assert_consistent(result)


async def test_dates_name_the_same_period_or_a_free_range(synthco: Client, synthetic_url: str) -> None:
    by_dates = await forecast(synthco, team="Trend", date_from="2026-07-01", date_to="2026-09-30")
    free = await forecast(synthco, team="Trend", date_from="2026-07-15", date_to="2026-08-14")

    assert by_dates == await forecast(synthco, team="Trend", period="2026-Q3")
    assert (free.period, free.budget) == ("2026-07-15..2026-08-14", None)
    assert [(point.month, point.kind) for point in free.months] == [
        ("2026-07", "partial"),
        ("2026-08", "forecast"),
    ]
    assert minor(free.spent_to_date) == await spent_in_sql(
        synthetic_url, "Trend", dt.date(2026, 7, 15), TODAY
    )
    assert (
        "no budget for exactly 2026-07-15..2026-08-14; budgets overlapping it: 2026-Q3" in free.method.notes
    )
    assert_consistent(free)


@pytest.mark.parametrize("team", ["Steady", "Trend"])
async def test_a_closed_quarter_is_its_actuals(synthco: Client, synthetic_url: str, team: str) -> None:
    result = await forecast(synthco, team=team, period="2026-Q2")
    spent = await spent_in_sql(synthetic_url, team, *Q2)
    budget = (await budgets_in_sql(synthetic_url, *Q2))[team, None, Q2[0]]
    end = result.forecast

    assert minor(result.spent_to_date) == spent
    assert {
        end.expected,
        end.interval_80.low,
        end.interval_80.high,
        end.interval_95.low,
        end.interval_95.high,
    } == {result.spent_to_date}
    assert (result.outlook, result.overrun_probability) == (
        ("over_budget", 1.0) if spent > budget else ("closed", 0.0)
    )
    assert [minor(point.actual) for point in result.months] == [
        await spent_in_sql(synthetic_url, team, dt.date(2026, month, 1), dt.date(2026, month, last))
        for month, last in ((4, 30), (5, 31), (6, 30))
    ]
    assert (result.components.committed, result.components.known, result.components.variable) == ("0.00",) * 3
    assert "the period is over: actuals only" in result.method.notes
    assert_consistent(result)


@pytest.mark.parametrize("category", ["SOFTWARE", "Software & SaaS", "software & saas"])
async def test_a_category_budget_by_code_or_name(
    synthco: Client, synthetic_url: str, truth: SyntheticTruth, category: str
) -> None:
    result = await forecast(synthco, team="Steady", category=category)
    budget = (await budgets_in_sql(synthetic_url, *Q3))["Steady", "SOFTWARE", Q3[0]]
    spent = await spent_in_sql(synthetic_url, "Steady", Q3[0], TODAY, category="SOFTWARE")

    assert (result.category, result.period, minor(result.budget)) == ("SOFTWARE", "2026-Q3", budget)
    assert minor(result.spent_to_date) == spent == minor(truth.subscription.amount)
    # Nothing but the subscription and the licence: the rest of the quarter is two more charges.
    assert minor(result.components.committed) == 2 * minor(truth.subscription.amount)
    assert result.components.known == "0.00"
    assert result.outlook == "on_track"
    assert_consistent(result)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"team": "Nobody"},
            "no team named 'Nobody'; the teams are: Newcomer, Seasonal, Shift, Sparse, Steady, Trend",
        ),
        ({"team": "S"}, "'S' matches 4 teams: Seasonal, Shift, Sparse, Steady"),
        (
            {"team": "Steady", "category": "Hardware"},
            "no category with code or name 'Hardware'; the categories are",
        ),
        ({"team": "Steady", "period": "2026-Q5"}, "'2026-Q5' is not a period: use a year (2026), a quarter"),
    ],
)
async def test_bad_arguments_are_tool_errors_the_agent_can_act_on(
    synthco: Client, arguments: dict[str, Any], message: str
) -> None:
    assert message in await call_error(synthco, "forecast_budget", arguments)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"date_from": "2026-09-01", "date_to": "2026-08-01"},
            "date_from 2026-09-01 is after date_to 2026-08-01",
        ),
        ({"period": "2026", "date_from": "2026-08-01"}, "pass either period or date_from/date_to, not both"),
        ({"date_to": "2026-08-01"}, "date_to needs a date_from as well"),
    ],
)
async def test_inconsistent_dates_are_tool_errors(
    synthco: Client, arguments: dict[str, Any], message: str
) -> None:
    assert message in await call_error(synthco, "forecast_budget", {"team": "Steady", **arguments})


async def test_a_steady_team_gets_an_interval_of_its_own_noise(synthco: Client) -> None:
    result = await forecast(synthco, team="Steady")
    rest = minor(result.forecast.expected) - minor(result.spent_to_date)
    width = minor(result.forecast.interval_80.high) - minor(result.forecast.interval_80.low)

    # Steady's months vary by under 10%: the rest of its quarter is known to within a few percent.
    assert width <= 0.3 * rest, (result.forecast.interval_80, rest)


async def test_a_sparse_team_may_well_buy_nothing_more_this_quarter(synthco: Client) -> None:
    result = await forecast(synthco, team="Sparse")

    # Three months in four are empty: the 80% interval must hold the quarter with no further purchase.
    assert minor(result.forecast.interval_80.low) <= minor(result.spent_to_date), result.forecast


async def test_a_chart_comes_as_a_png_image_block(synthco: Client) -> None:
    result = await synthco.call_tool("forecast_budget", {"team": "Trend", "chart": True})

    assert not result.is_error
    summary, data, image = result.content
    assert isinstance(summary, TextContent)
    assert summary.text.startswith("Trend, 2026-Q3 (as of 2026-07-20): likely over.")
    assert isinstance(data, TextContent)
    assert json.loads(data.text) == result.structured_content
    assert isinstance(image, ImageContent)
    assert image.mime_type == "image/png"
    assert base64.b64decode(image.data, validate=True).startswith(PNG_SIGNATURE)


async def test_every_budget_running_today_is_ranked_riskiest_first(
    synthco: Client, synthetic_url: str, truth: SyntheticTruth
) -> None:
    result = await ranking(synthco)
    running = await budgets_in_sql(synthetic_url, TODAY, TODAY)
    order = [(risk.team, risk.category) for risk in result.budgets]
    probabilities = [risk.overrun_probability for risk in result.budgets]

    assert (result.as_of, result.currency, result.period, result.count) == (TODAY, "EUR", None, len(running))
    assert {(risk.team, risk.category, risk.period, minor(risk.budget)) for risk in result.budgets} == {
        (team, code, "2026-Q3", amount) for (team, code, _), amount in running.items()
    }
    assert probabilities == sorted(probabilities, reverse=True)
    assert result.at_risk == sum(
        r.outlook in ("over_budget", "likely_over", "at_risk") for r in result.budgets
    )
    assert order.index(("Trend", None)) < order.index(("Steady", None))
    for over in truth.over_budget:
        assert all(order.index((over, None)) < order.index((within, None)) for within in truth.within_budget)


async def test_a_ranked_budget_says_what_its_forecast_says(synthco: Client) -> None:
    for risk in (await ranking(synthco)).budgets:
        one = await forecast(
            synthco, team=risk.team, **({"category": risk.category} if risk.category else {})
        )
        assert risk.model_dump() == {
            "team": one.team,
            "category": one.category,
            "period": one.period,
            "budget": one.budget,
            "spent_to_date": one.spent_to_date,
            "expected": one.forecast.expected,
            "interval_80": one.forecast.interval_80.model_dump(),
            "overrun_probability": one.overrun_probability,
            "expected_overrun": one.expected_overrun,
            "projected_overrun_date": one.projected_overrun_date,
            "outlook": one.outlook,
        }


async def test_top_cuts_the_list_but_not_the_count(synthco: Client) -> None:
    everything = await ranking(synthco)
    top = await ranking(synthco, top=2)

    assert top.budgets == everything.budgets[:2]
    assert (top.count, top.at_risk) == (everything.count, everything.at_risk)
    assert len(everything.budgets) == everything.count == 7


@pytest.mark.parametrize(("period", "dates"), [("2026-Q2", Q2), ("2026", YEAR)])
async def test_a_ranking_of_a_period_lists_the_budgets_overlapping_it(
    synthco: Client, synthetic_url: str, period: str, dates: tuple[dt.date, dt.date]
) -> None:
    result = await ranking(synthco, period=period, top=500)
    budgets = await budgets_in_sql(synthetic_url, *dates)

    assert (result.period, result.count) == (period, len(budgets))
    assert {(risk.team, risk.category, minor(risk.budget)) for risk in result.budgets} == {
        (team, code, amount) for (team, code, _), amount in budgets.items()
    }
    for risk in result.budgets:
        if risk.period <= "2026-Q2":  # over: actuals only
            assert risk.interval_80.low == risk.interval_80.high == risk.expected == risk.spent_to_date
            assert risk.outlook in ("closed", "over_budget")


async def test_the_other_company_never_shows_up(synthco: Client, othco: Client, synthetic_url: str) -> None:
    for client, slug in ((synthco, SLUG), (othco, OTHER)):
        result = await ranking(client, top=500)
        running = await budgets_in_sql(synthetic_url, TODAY, TODAY, slug=slug)
        assert {(risk.team, risk.category, minor(risk.budget)) for risk in result.budgets} == {
            (team, code, amount) for (team, code, _), amount in running.items()
        }
        for risk in result.budgets:
            spent = await spent_in_sql(
                synthetic_url, risk.team, Q3[0], TODAY, category=risk.category, slug=slug
            )
            assert minor(risk.spent_to_date) == spent, (slug, risk.team, risk.category)
    theirs = await forecast(othco, team="Steady", period="2024")
    assert (theirs.spent_to_date, theirs.budget) == ("0.00", None)  # their history starts in 2025


async def test_the_overrun_probability_and_the_intervals_come_from_one_distribution(
    synthco: Client, synthetic_url: str
) -> None:
    """With the budget at the 80% (95%) upper bound, the overrun probability is 10% (2.5%), up to the
    calibration's granularity."""
    scope = {"team": "Seasonal", "period": "2027-Q1"}  # no budget: the test adds one, then removes it
    unbudgeted = await forecast(synthco, **scope)
    # One backtest error more or less, in the smallest bucket of months still to come the engine keeps.
    step = 1 / MIN_BUCKET
    bounds = {unbudgeted.forecast.interval_80.high: 0.10, unbudgeted.forecast.interval_95.high: 0.025}
    assert unbudgeted.budget is None

    for bound, probability in bounds.items():
        await _add_budget(synthetic_url, "Seasonal", dt.date(2027, 1, 1), dt.date(2027, 3, 31), minor(bound))
        try:
            budgeted = await forecast(synthco, **scope)
        finally:
            await _remove_budget(synthetic_url, "Seasonal", dt.date(2027, 1, 1))
        assert (budgeted.budget, budgeted.forecast) == (bound, unbudgeted.forecast)
        assert budgeted.overrun_probability is not None
        assert abs(budgeted.overrun_probability - probability) <= step + 0.001, budgeted.overrun_probability


async def _add_budget(url: str, team: str, start: dt.date, end: dt.date, amount: int) -> None:
    await execute(
        url,
        "INSERT INTO budgets "
        "(company_id, team_id, category_id, period_start, period_end, amount_minor, currency) "
        "SELECT c.id, t.id, NULL, :start, :end, :amount, 'EUR' FROM companies c "
        "JOIN teams t ON t.company_id = c.id WHERE c.slug = :slug AND t.name = :team",
        slug=SLUG,
        team=team,
        start=start,
        end=end,
        amount=amount,
    )


async def _remove_budget(url: str, team: str, start: dt.date) -> None:
    await execute(
        url,
        "DELETE FROM budgets WHERE period_start = :start AND category_id IS NULL AND team_id IN "
        "(SELECT t.id FROM teams t JOIN companies c ON c.id = t.company_id "
        "WHERE c.slug = :slug AND t.name = :team)",
        slug=SLUG,
        team=team,
        start=start,
    )
