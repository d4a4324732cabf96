"""Expenses whose export named no one (card statements without card holders): every tool keeps them, in
every total and grouping, as many as the company's expense count says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.db.engine import create_engine, create_session_factory
from server.importer import import_company
from tests.importer import edits
from tests.importer.conftest import copy_valid
from tests.world import build, call_ok, connect, raw

pytestmark = pytest.mark.anyio

EXPENSES = 20  # in the valid fixture folder, E-001 .. E-020
# Three expenses lose their employee (and name their team, which an expense without one must give).
NO_ONE = {
    "E-012": ("E-012,2026-02-20,cto@acme.test,,AWS EMEA", "E-012,2026-02-20,,Engineering,AWS EMEA"),
    "E-014": ("E-014,2026-03-01,rep@acme.test,,STAPLES", "E-014,2026-03-01,,Sales,STAPLES"),
    "E-017": ("E-017,2026-03-09,dev.lead@acme.test,,JETBRAINS", "E-017,2026-03-09,,Engineering,JETBRAINS"),
}
Q1 = {"date_from": "2026-01-01", "date_to": "2026-03-31"}


@pytest.fixture
async def url(database_url: str, tmp_path: Path) -> str:
    folder = copy_valid(tmp_path / "acme")
    for old, new in NO_ONE.values():
        edits.replace("expenses.csv", old, new)(folder)
    engine = create_engine(database_url)
    try:
        await import_company(create_session_factory(engine), folder)
    finally:
        await engine.dispose()
    return database_url


async def test_the_import_keeps_them_without_an_employee(url: str) -> None:
    rows = await raw(url, "SELECT ref FROM expenses WHERE employee_id IS NULL ORDER BY ref")

    assert [ref for (ref,) in rows] == sorted(NO_ONE)


async def test_summaries_by_any_grouping_count_every_expense(url: str) -> None:
    total = (await raw(url, "SELECT sum(amount_company_minor) FROM expenses"))[0][0]
    async with connect(build(url, "acme"), "auto") as client:
        for group_by in ("employee", "team", "category", "merchant", "month"):
            summary = await call_ok(client, "summarize_spend", {"group_by": group_by, "top": 50, **Q1})

            groups = summary["groups"] + ([summary["others"]] if summary["others"] else [])
            assert (summary["count"], sum(g["count"] for g in groups)) == (EXPENSES, EXPENSES), group_by
            assert _minor(summary["total"]) == total, group_by
        by_employee = await call_ok(client, "summarize_spend", {"group_by": "employee", "top": 50, **Q1})

    no_one = [g for g in by_employee["groups"] if g["key"] is None]
    assert [(g["name"], g["count"]) for g in no_one] == [("No employee", len(NO_ONE))]


async def test_search_and_get_expense_show_them_with_no_employee(url: str) -> None:
    async with connect(build(url, "acme"), "auto") as client:
        found = await call_ok(client, "search_expenses", {"limit": 50, **Q1})
        detail = await call_ok(client, "get_expense", {"expense_id": "E-014"})

    assert found["total_matched"] == EXPENSES
    assert len(found["items"]) == EXPENSES
    assert sorted(i["id"] for i in found["items"] if i["employee"] is None) == sorted(NO_ONE)
    assert (detail["employee"], detail["team"]["name"]) == (None, "Sales")


async def test_forecasts_count_their_spend(url: str) -> None:
    spent = await raw(
        url,
        "SELECT sum(e.amount_company_minor) FROM expenses e JOIN teams t ON t.id = e.team_id "
        "WHERE t.name = 'Engineering' AND e.spent_on <= '2026-03-31'",
    )
    async with connect(build(url, "acme"), "auto") as client:
        forecast = await call_ok(client, "forecast_budget", {"team": "Engineering", "period": "2026-Q1"})

    assert _minor(forecast["spent_to_date"]) == spent[0][0]


async def test_the_categorizer_answers_them(url: str) -> None:
    async with connect(build(url, "acme"), "auto") as client:
        answered = await call_ok(client, "categorize_expenses", {"expense_ids": sorted(NO_ONE)})

    assert sorted(item["expense_id"] for item in answered["items"]) == sorted(NO_ONE)


def _minor(amount: Any) -> int:
    """'1,234.50' or {'amount': '1234.50', ...} as minor units of a two-decimal currency."""
    text = amount["amount"] if isinstance(amount, dict) else str(amount)
    return round(float(text.replace(",", "")) * 100)
