"""summarize_spend through a real MCP client, checked against hand-written SQL over the same rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from server.kit.money import format_amount, to_minor
from server.kit.periods import PERIOD_PATTERN
from tests.tools.test_search_expenses import text_of
from tests.world import TODAY, call_error, call_ok, raw

pytestmark = pytest.mark.anyio

KEYS = {
    "category": ("cat.code", "LEFT JOIN categories cat ON cat.id = e.category_id"),
    "team": ("t.name", "JOIN teams t ON t.id = e.team_id"),
    "merchant": ("m.name", "JOIN merchants m ON m.id = e.merchant_id"),
    "employee": ("emp.email", "JOIN employees emp ON emp.id = e.employee_id"),
    "cost_center": ("e.cost_center", ""),
    "project": ("e.project", ""),
    **{
        f"dim:{name}": (
            "d.value",
            f"LEFT JOIN expense_dimensions d ON d.expense_id = e.id AND d.name = '{name}'",
        )
        for name in ("fund", "location")
    },
}
GROUPINGS = ["category", "team", "merchant", "employee", "month", "cost_center", "project", "dim:fund"]


def month_key(url: str) -> str:
    return "strftime('%Y-%m', e.spent_on)" if url.startswith("sqlite") else "to_char(e.spent_on, 'YYYY-MM')"


async def expected_totals(
    url: str, group_by: str, start: dt.date, end: dt.date, where: str = ""
) -> dict[str | None, tuple[int, int]]:
    """{group key: (total minor units, count)}, computed independently of the tool's query."""
    key, join = KEYS[group_by] if group_by != "month" else (month_key(url), "")
    rows = await raw(
        url,
        f"SELECT {key}, SUM(e.amount_company_minor), COUNT(*) FROM expenses e "
        f"JOIN companies c ON c.id = e.company_id {join} "
        f"WHERE c.slug = 'acme' AND e.spent_on BETWEEN :start AND :end {where} GROUP BY {key}",
        start=start,
        end=end,
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def in_team(name: str) -> str:
    return f"AND e.team_id IN (SELECT id FROM teams WHERE name = '{name}' AND company_id = c.id)"


def totals_of(summary: dict[str, Any]) -> dict[str | None, tuple[int, int]]:
    return {g["key"]: (to_minor(g["total"], "EUR"), g["count"]) for g in summary["groups"] if g["count"]}


@pytest.mark.parametrize("group_by", GROUPINGS)
async def test_totals_equal_an_independent_aggregate(acme: Client, seeded_url: str, group_by: str) -> None:
    summary = await call_ok(acme, "summarize_spend", {"period": "2026", "group_by": group_by})
    expected = await expected_totals(seeded_url, group_by, dt.date(2026, 1, 1), dt.date(2026, 12, 31))

    assert totals_of(summary) == expected
    assert to_minor(summary["total"], "EUR") == sum(total for total, _ in expected.values())
    assert summary["count"] == sum(count for _, count in expected.values()) == 91
    totals = [to_minor(group["total"], "EUR") for group in summary["groups"]]
    if group_by == "month":
        assert [group["key"] for group in summary["groups"]] == [f"2026-{m:02d}" for m in range(1, 13)]
        assert summary["groups"][11] == {
            "key": "2026-12",
            "name": "December 2026",
            "total": "0.00",
            "count": 0,
        }
    else:
        assert totals == sorted(totals, reverse=True)


async def test_top_lists_the_largest_groups_and_adds_up_the_rest(acme: Client, seeded_url: str) -> None:
    summary = await call_ok(acme, "summarize_spend", {"period": "2026", "group_by": "employee", "top": 2})
    expected = await expected_totals(seeded_url, "employee", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    largest = sorted(expected.values(), key=lambda totals: -totals[0])

    assert [to_minor(group["total"], "EUR") for group in summary["groups"]] == [t for t, _ in largest[:2]]
    assert summary["others"] == {
        "key": None,
        "name": f"{len(expected) - 2} others",
        "total": format_amount(sum(t for t, _ in largest[2:]), "EUR"),
        "count": sum(c for _, c in largest[2:]),
    }
    assert len(expected) > 3


@pytest.mark.parametrize(
    ("group_by", "name"),
    [
        ("category", "Uncategorized"),
        ("cost_center", "No cost center"),
        ("project", "No project"),
        ("dim:location", "No location"),
    ],
)
async def test_spend_without_a_value_has_its_own_bucket(
    acme: Client, seeded_url: str, group_by: str, name: str
) -> None:
    summary = await call_ok(acme, "summarize_spend", {"period": "2026", "group_by": group_by})
    total, count = (await expected_totals(seeded_url, group_by, dt.date(2026, 1, 1), dt.date(2026, 12, 31)))[
        None
    ]

    [bucket] = [group for group in summary["groups"] if group["key"] is None]
    assert bucket == {"key": None, "name": name, "total": format_amount(total, "EUR"), "count": count}


async def test_a_free_dimension_as_a_whole_over_a_team_and_days(acme: Client, seeded_url: str) -> None:
    """Read from the expenses, also for whole months (the monthly rollup has no dimensions)."""
    arguments = {
        "date_from": "2026-01-10",
        "date_to": "2026-06-20",
        "team": "Engineering",
        "group_by": "dim:fund",
    }
    summary = await call_ok(acme, "summarize_spend", arguments)
    start, end = dt.date(2026, 1, 10), dt.date(2026, 6, 20)
    expected = await expected_totals(seeded_url, "dim:fund", start, end, in_team("Engineering"))
    groups = sorted(expected.items(), key=lambda item: (-item[1][0], item[0] or ""))
    total = format_amount(sum(t for t, _ in expected.values()), "EUR")

    assert summary["groups"] == [
        {"key": key, "name": key or "No fund", "total": format_amount(t, "EUR"), "count": count}
        for key, (t, count) in groups
    ]
    assert (summary["group_by"], summary["total"], summary["filters"]["team"]) == (
        "dim:fund",
        total,
        "Engineering",
    )
    assert set(expected) == {"GF01", None}
    top = "; ".join(f"{group['name']} {Decimal(group['total']):,}" for group in summary["groups"])
    assert text_of(await acme.call_tool("summarize_spend", arguments)) == (
        f"Spend 2026-01-10..2026-06-20 (2026-01-10..2026-06-20) by dim:fund: {Decimal(total):,} EUR over "
        f"{summary['count']} expenses. Top: {top}."
    )


async def test_a_filtered_summary_as_a_whole(acme: Client, seeded_url: str) -> None:
    summary = await call_ok(
        acme,
        "summarize_spend",
        {"period": "2026-q2", "group_by": "team", "category": "meals & entertainment"},
    )
    expected = await expected_totals(
        seeded_url,
        "team",
        dt.date(2026, 4, 1),
        dt.date(2026, 6, 30),
        "AND e.category_id IN (SELECT id FROM categories WHERE code = 'MEALS')",
    )
    groups = sorted(expected.items(), key=lambda item: (-item[1][0], item[0]))

    assert summary == {
        "date_from": "2026-04-01",
        "date_to": "2026-06-30",
        "period": "2026-Q2",
        "group_by": "team",
        "currency": "EUR",
        "total": format_amount(sum(t for t, _ in expected.values()), "EUR"),
        "count": sum(c for _, c in expected.values()),
        "groups": [
            {"key": team, "name": team, "total": format_amount(total, "EUR"), "count": count}
            for team, (total, count) in groups
        ],
        "others": None,
        "filters": {"team": None, "category": "MEALS", "employee": None},
    }


@pytest.mark.parametrize(
    ("arguments", "start", "end", "label"),
    [
        ({}, dt.date(2026, 7, 1), TODAY, "2026-07 to date (2026-07-20)"),
        ({"period": "2026-07"}, dt.date(2026, 7, 1), dt.date(2026, 7, 31), "2026-07"),
        ({"period": "2026-Q3"}, dt.date(2026, 7, 1), dt.date(2026, 9, 30), "2026-Q3"),
        ({"date_from": "2026-06-15"}, dt.date(2026, 6, 15), TODAY, "2026-06-15..2026-07-20"),
        (
            {"date_from": "2026-01-01", "date_to": "2026-03-31"},
            dt.date(2026, 1, 1),
            dt.date(2026, 3, 31),
            "2026-Q1",
        ),
        (
            {"date_from": "2026-02-10", "date_to": "2026-02-10"},
            dt.date(2026, 2, 10),
            dt.date(2026, 2, 10),
            "2026-02-10..2026-02-10",
        ),
    ],
)
async def test_the_period_is_a_named_period_a_date_range_or_this_month_to_date(
    acme: Client, seeded_url: str, arguments: dict[str, Any], start: dt.date, end: dt.date, label: str
) -> None:
    summary = await call_ok(acme, "summarize_spend", {**arguments, "group_by": "employee"})

    assert (summary["date_from"], summary["date_to"], summary["period"]) == (
        start.isoformat(),
        end.isoformat(),
        label,
    )
    assert totals_of(summary) == await expected_totals(seeded_url, "employee", start, end)


async def test_filters_by_team_and_employee(acme: Client, seeded_url: str) -> None:
    arguments = {"period": "2026", "group_by": "merchant", "team": "marketing ops", "employee": "Dan Brown"}
    summary = await call_ok(acme, "summarize_spend", arguments)
    expected = await expected_totals(
        seeded_url,
        "merchant",
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
        in_team("Marketing Ops")
        + " AND e.employee_id IN (SELECT id FROM employees WHERE email = 'dan@acme.example')",
    )

    assert summary["filters"] == {"team": "Marketing Ops", "category": None, "employee": "dan@acme.example"}
    assert totals_of(summary) == expected
    assert expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"period": "2026", "date_from": "2026-01-01"}, "pass either period or date_from/date_to, not both"),
        ({"date_to": "2026-01-31"}, "date_to needs a date_from as well"),
        (
            {"date_from": "2026-08-01"},
            "date_from 2026-08-01 is after date_to 2026-07-20 (today, the default)",
        ),
        (
            {"date_from": "2026-03-01", "date_to": "2026-02-01"},
            "date_from 2026-03-01 is after date_to 2026-02-01",
        ),
        (
            {"period": "2026-13"},
            "'2026-13' is not a period: use a year (2026), a quarter (2026-Q3) or a month",
        ),
        ({"period": "Q3"}, "'Q3' is not a period"),
        (
            {"group_by": "week"},
            'group_by: "week" is not accepted; expected: The dimension to total by: category, team, '
            "merchant, employee, month, cost_center, project, or dim:<name>",
        ),
        ({"group_by": "dim:"}, 'group_by: "dim:" is not accepted; expected: The dimension to total by'),
        (  # globex has a grant dimension; acme does not
            {"group_by": "dim:grant"},
            "Error executing tool summarize_spend: group_by: no free dimension named 'grant'; this company's "
            "dimensions are cost_center, project and the free ones: dim:fund, dim:location",
        ),
        ({"team": "Mark"}, "'Mark' matches 3 teams: Market Research, Marketing, Marketing Ops"),
        ({"category": "HARDWARE"}, "no category with code or name 'HARDWARE'"),
    ],
)
async def test_bad_arguments_are_refused_with_a_clear_reason(
    acme: Client, arguments: dict[str, Any], message: str
) -> None:
    assert message in await call_error(acme, "summarize_spend", arguments)


async def test_a_period_may_be_a_year_sent_as_a_json_number(acme: Client) -> None:
    as_number = await acme.call_tool("summarize_spend", {"period": 2026, "group_by": "team"})
    as_text = await acme.call_tool("summarize_spend", {"period": "2026", "group_by": "team"})

    assert not as_number.is_error, as_number.content
    assert as_number.structured_content == as_text.structured_content
    tools = {tool.name: tool for tool in (await acme.list_tools()).tools}
    period = tools["forecast_budgets"].input_schema["properties"]["period"]
    assert {"type": ["string", "integer"], "pattern": PERIOD_PATTERN} in period["anyOf"]
