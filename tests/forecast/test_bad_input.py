"""Input a forecast must survive: a period over before the company's first expense, a team that never
spent, a budget of 0, a history of refunds only. Each gets a forecast with a note or a tool error the
agent can act on, and no output ever holds a NaN or an Infinity. A small company of its own, imported
with the real importer into a fresh database per backend."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import math
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pydantic import SecretStr

from server.app import build_server
from server.db.engine import create_engine, create_session_factory
from server.importer import import_company
from server.settings import Settings
from tests.conftest import BACKENDS
from tests.forecast.conftest import TODAY
from tests.world import CURSOR_SECRET, call_ok, connect
from tools.forecast.schemas import BudgetForecast

pytestmark = pytest.mark.anyio

SLUG = "edgeco"
FIRST = dt.date(2025, 1, 6)  # the company's first expense
TEAMS = ("Normal", "Empty", "Zero", "Refunds")
EXPENSE_HEADER = (
    "id", "date", "employee_email", "descriptor", "merchant", "mcc", "amount", "currency", "status",
    "category_code", "receipt",
)  # fmt: skip


def _write(folder: Path, name: str, header: Sequence[str], rows: Iterator[Sequence[str]] | list[Any]) -> None:
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _expenses() -> Iterator[tuple[str, ...]]:
    """Normal and Zero spend every weekday from FIRST; Refunds only ever gets money back."""
    day, number = FIRST, 0
    while day <= TODAY:
        for team, amount in (("Normal", "310.00"), ("Zero", "120.00"), ("Refunds", "-95.00")):
            if day.weekday() < 5 and (team != "Refunds" or day.day in (3, 17)):
                number += 1
                yield (f"E-{number}", day.isoformat(), f"lead.{team.lower()}@{SLUG}.test", "SHOP 1", "Shop",
                       "5111", amount, "EUR", "approved", "OFFICE", "true")  # fmt: skip
        day += dt.timedelta(days=1)


def write_company(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    email = {team: f"lead.{team.lower()}@{SLUG}.test" for team in TEAMS}
    _write(folder, "company.csv", ("slug", "name", "currency"), [(SLUG, "Edge cases", "EUR")])
    _write(folder, "teams.csv", ("name", "manager_email"), [(team, email[team]) for team in TEAMS])
    employees = [(email[team], f"Lead {team}", team, "manager", "50000.00") for team in TEAMS]
    _write(folder, "employees.csv", ("email", "name", "team", "role", "approval_limit"), employees)
    _write(folder, "categories.csv", ("code", "name", "mcc_codes"), [("OFFICE", "Office", "5111")])
    _write(folder, "expenses.csv", EXPENSE_HEADER, _expenses())
    budgets = [
        ("Normal", "", "2026-Q3", "20000.00", "EUR"),
        ("Empty", "", "2026-Q3", "1000.00", "EUR"),
        ("Zero", "", "2026-Q3", "0.00", "EUR"),
        ("Refunds", "", "2026-Q3", "500.00", "EUR"),
    ]
    _write(folder, "budgets.csv", ("team", "category_code", "period", "amount", "currency"), budgets)
    policy = {"rules": [{"name": "Manager signs everything", "when": {}, "steps": ["team_manager"]}]}
    (folder / "approval_policy.json").write_text(json.dumps(policy), encoding="utf-8")


@pytest.fixture(scope="module", params=BACKENDS)
def edge_url(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    url = make_database(str(request.param))
    folder = tmp_path_factory.mktemp("edgeco") / SLUG
    write_company(folder)

    async def load() -> None:
        engine = create_engine(url)
        try:
            await import_company(create_session_factory(engine), folder)
        finally:
            await engine.dispose()

    asyncio.run(load())
    return url


@pytest.fixture(scope="module")
async def edgeco(edge_url: str, era: str, anyio_backend: str) -> AsyncIterator[Client]:
    """One connection per backend and era, as `synthco` (the calibration is computed once)."""
    settings = Settings(
        database_url=edge_url, company=SLUG, today=TODAY, cursor_secret=SecretStr(CURSOR_SECRET)
    )
    async with connect(build_server(settings, local_company=SLUG), era) as client:
        yield client


def assert_finite(structured: dict[str, Any]) -> None:
    """No NaN or Infinity anywhere: not as a JSON token, not as a decimal string, not as a float."""
    text = json.dumps(structured, allow_nan=True, default=str)
    assert not re.search(r"\b-?(nan|inf|infinity)\b", text, flags=re.IGNORECASE), text

    def walk(value: Any) -> None:
        if isinstance(value, float):
            assert math.isfinite(value), structured
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(structured)


async def forecast(client: Client, **arguments: Any) -> BudgetForecast:
    structured = await call_ok(client, "forecast_budget", arguments)
    assert_finite(structured)
    return BudgetForecast.model_validate(structured)


async def test_a_period_over_before_the_first_expense_is_zero_actuals(edgeco: Client) -> None:
    result = await forecast(edgeco, team="Normal", period="2024-Q2")

    assert (result.outlook, result.spent_to_date, result.forecast.expected) == ("no_budget", "0.00", "0.00")
    assert "the period is over: actuals only" in result.method.notes


@pytest.mark.parametrize("period", ["2026-Q3", "2026-Q4"])
async def test_a_team_that_never_spent_gets_a_forecast_of_nothing_with_a_note(
    edgeco: Client, period: str
) -> None:
    result = await forecast(edgeco, team="Empty", period=period)

    assert (result.spent_to_date, result.forecast.expected) == ("0.00", "0.00")
    assert result.method.history_months == 0
    assert any("no complete month" in note for note in result.method.notes), result.method.notes


async def test_a_budget_of_zero_is_over_as_soon_as_anything_is_spent(edgeco: Client) -> None:
    result = await forecast(edgeco, team="Zero")

    assert (result.budget, result.outlook) == ("0.00", "over_budget")
    assert result.overrun_probability == 1.0
    assert result.projected_overrun_date == dt.date(2026, 7, 1)


async def test_a_history_of_refunds_only_forecasts_no_spend(edgeco: Client) -> None:
    result = await forecast(edgeco, team="Refunds")

    assert float(result.spent_to_date) < 0
    assert float(result.forecast.expected) <= float(result.spent_to_date) + 0.005
    assert result.overrun_probability == 0.0
    assert result.outlook == "on_track"


async def test_the_ranking_of_every_edge_case_is_finite(edgeco: Client) -> None:
    structured = await call_ok(edgeco, "forecast_budgets", {})

    assert_finite(structured)
    assert structured["count"] == len(TEAMS)
