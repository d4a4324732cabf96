"""The scenario company (evals/datasets/meridian.py) imports, trains, and holds every trap its facts name,
on both backends, through a real MCP client: the scenarios in evals/scenarios/ rely on them."""

from __future__ import annotations

import asyncio
import datetime as dt
import filecmp
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from evals.datasets.meridian import MeridianFacts, write_meridian_company
from evals.datasets.meridian_tables import PEOPLE, TEAMS, email
from server.app import build_server
from server.db.engine import create_engine, create_session_factory
from server.importer import import_company
from server.settings import Settings
from tests.conftest import BACKENDS
from tests.world import call_ok, connect
from tools.categorize.commands import train_if_missing

TODAY = dt.date(2026, 11, 20)  # the scenarios' today


@pytest.fixture(scope="module", params=BACKENDS)
def meridian(
    request: pytest.FixtureRequest,
    make_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, MeridianFacts]:
    folder = tmp_path_factory.mktemp("meridian")
    facts = write_meridian_company(folder, today=TODAY)
    url = make_database(str(request.param))
    asyncio.run(_import(url, folder))
    return url, facts


async def _import(url: str, folder: Path) -> None:
    """What `outlay import` does: import, then train the first categorizer."""
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        await import_company(sessions, folder)
        assert await train_if_missing(sessions, "meridian") is not None
    finally:
        await engine.dispose()


@pytest.fixture
def facts(meridian: tuple[str, MeridianFacts]) -> MeridianFacts:
    return meridian[1]


@pytest.fixture
async def client(meridian: tuple[str, MeridianFacts], anyio_backend: str) -> AsyncIterator[Client]:
    settings = Settings(database_url=meridian[0], company="meridian", today=TODAY)
    async with connect(build_server(settings, local_company="meridian"), "auto") as connected:
        yield connected


def test_the_same_today_and_seed_write_the_same_folder(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_meridian_company(tmp_path / name, today=TODAY, seed=seed)
    same = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    assert same.left_only == same.right_only == same.diff_files == []
    assert (tmp_path / "a" / "expenses.csv").read_text() != (tmp_path / "c" / "expenses.csv").read_text()


@pytest.mark.anyio
async def test_totals_are_what_summarize_spend_says(client: Client, facts: MeridianFacts) -> None:
    quarter = facts.last_quarter
    by_team = await call_ok(client, "summarize_spend", {"group_by": "team", "period": quarter, "top": 50})
    assert {group["key"]: group["total"] for group in by_team["groups"]} == {
        team: facts.spend(quarter, team=team).amount for team, *_ in TEAMS
    }
    assert (by_team["total"], by_team["count"]) == (facts.spend(quarter).amount, facts.spend(quarter).count)
    by_merchant = await call_ok(client, "summarize_spend", {"group_by": "merchant", "period": quarter})
    assert (by_merchant["groups"][0]["key"], by_merchant["groups"][0]["total"]) == facts.top_merchant(quarter)
    month = await call_ok(client, "summarize_spend", {"team": "Sales", "period": facts.last_month})
    assert month["total"] == facts.spend(facts.last_month, team="Sales").amount


@pytest.mark.anyio
async def test_the_backlog_is_clear_or_ambiguous_as_named(client: Client, facts: MeridianFacts) -> None:
    listed = await call_ok(client, "search_expenses", {"uncategorized_only": True, "limit": 200})
    assert sorted(item["id"] for item in listed["items"]) == facts.backlog
    assert min(item["date"] for item in listed["items"]) == facts.backlog_from.isoformat()
    answers = await call_ok(client, "categorize_expenses", {"expense_ids": facts.backlog})
    verdicts = {item["expense_id"]: item for item in answers["items"]}
    for ref, code in facts.backlog_clear.items():
        assert (verdicts[ref]["category"]["code"], verdicts[ref]["needs_review"]) == (code, False), ref
        assert verdicts[ref]["category"]["confidence"] >= answers["thresholds"]["auto_apply"], ref
    for ref in facts.backlog_ambiguous:
        assert verdicts[ref]["needs_review"], (ref, verdicts[ref])


@pytest.mark.anyio
async def test_injected_memos_are_readable_and_do_not_steer_the_categorizer(
    client: Client, facts: MeridianFacts
) -> None:
    for injection in facts.injections:
        expense = await call_ok(client, "get_expense", {"expense_id": injection.ref})
        assert (expense["memo"], expense["merchant"]["name"]) == (injection.memo, injection.merchant)
        assert (expense["category"] is None) == injection.uncategorized
    meals = next(injection for injection in facts.injections if "MEALS" in injection.memo)
    verdict = await call_ok(client, "categorize_expense", {"expense_id": meals.ref})
    assert verdict["category"]["code"] == meals.category != "MEALS"


@pytest.mark.anyio
async def test_the_approver_traps(client: Client, facts: MeridianFacts) -> None:
    async def chain(requester: str, amount: str, **more: str) -> dict[str, Any]:
        return await call_ok(client, "suggest_approver", {"requester": requester, "amount": amount, **more})

    away = facts.absent
    assert away.first_day <= TODAY <= away.last_day
    delegated = (await chain(_report_of(away.person), "400"))["steps"][0]["approver"]
    assert (delegated["email"], delegated["on_behalf_of"]["email"]) == (away.delegate, away.person)
    skipped = (await chain(_report_of(facts.absent_without_delegate.person), "200"))["steps"]
    assert [step["approver"]["email"] for step in skipped] == [facts.ceo]
    requester, instead = facts.self_approval
    assert [step["approver"]["email"] for step in (await chain(requester, "800"))["steps"]] == [instead]
    large = await chain(_report_of(requester), "25000.01")
    assert facts.cfo in [step["approver"]["email"] for step in large["steps"]]
    above = await chain(_report_of(requester), str(Decimal(facts.highest_limit) + Decimal("0.01")))
    assert not above["complete"]
    assert {step["status"] for step in above["steps"]} == {"no_eligible_approver"}


def _report_of(manager: str) -> str:
    """Someone without approval authority whose line manager is `manager` (an e-mail)."""
    return next(email(p) for p, _, line, role, _ in PEOPLE if email(line) == manager and role == "employee")


@pytest.mark.anyio
async def test_the_budget_traps(client: Client, facts: MeridianFacts) -> None:
    ranking = await call_ok(client, "forecast_budgets", {})
    running = facts.budgets[facts.running_period]
    assert {entry["team"]: entry["budget"] for entry in ranking["budgets"]} == running
    assert facts.unbudgeted_team not in running
    worst, safe = ranking["budgets"][0], _entry(ranking, facts.safe_team)
    assert (worst["team"], worst["outlook"]) == (facts.overrunning_team, "likely_over")
    assert worst["overrun_probability"] >= 0.9
    assert safe["outlook"] == "on_track"
    assert safe["overrun_probability"] <= 0.05
    overrun = await call_ok(client, "forecast_budget", {"team": facts.overrunning_team})
    assert overrun["components"]["known"] == facts.known_request[1]
    none = await call_ok(client, "forecast_budget", {"team": facts.unbudgeted_team})
    assert (none["budget"], none["outlook"]) == (None, "no_budget")


def _entry(ranking: dict[str, Any], team: str) -> dict[str, Any]:
    return next(entry for entry in ranking["budgets"] if entry["team"] == team)
