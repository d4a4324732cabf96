"""`review_expenses` through the real tool (an in-memory MCP client): one month of the whole company and
one team's quarter, against issue 22's targets (a month of the 1.7 million-expense company <= 2 s, a
team's quarter <= 200 ms). Every call reviews the whole scope (the page is cut after the review), so
the first page's latency is the review's.

    outlay bench --only review                  # the default company and the large one
    outlay bench --only review --quick          # the default company only

The month is the last whole month before "today", the team the one with the most expenses in it, the
quarter the last whole quarter.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

import asyncpg
from mcp import Client

from server.app import build_server
from server.db.engine import libpq_url
from server.settings import Settings

MONTH_TARGET_MS, TEAM_QUARTER_TARGET_MS = 2000, 200


def scopes(today: dt.date, team: str) -> dict[str, dict[str, Any]]:
    """The month and the team's quarter before `today`'s."""
    month_end = today.replace(day=1) - dt.timedelta(days=1)
    quarter = (today.month - 1) // 3  # the last whole quarter: 0 means the previous year's fourth
    year = today.year if quarter else today.year - 1
    return {
        "month": {"period": month_end.strftime("%Y-%m")},
        "team_quarter": {"period": f"{year}-Q{quarter or 4}", "team": team},
    }


async def measure(database_url: str, *, today: dt.date, calls: int) -> dict[str, Any]:
    settings = Settings(database_url=database_url, today=today)
    month = scopes(today, "")["month"]["period"]
    team, expenses, in_month = await _company(database_url, month)
    found: dict[str, Any] = {"expenses": expenses, "month_expenses": in_month}
    async with Client(build_server(settings, local_company="acme")) as client:
        for name, arguments in scopes(today, team).items():
            found[name] = await _timed(client, arguments, calls)
    return found


async def _timed(client: Client, arguments: dict[str, Any], calls: int) -> dict[str, Any]:
    first = await client.call_tool("review_expenses", arguments)  # warm-up: pool, statement caches
    content = first.structured_content or {}
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        await client.call_tool("review_expenses", arguments)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "arguments": arguments,
        "error": str(first.content[0])[:300] if first.is_error else None,
        "expenses_reviewed": content.get("expenses_reviewed"),
        "findings": content.get("total"),
        "calls": calls,
        "p50_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
    }


async def _company(database_url: str, month: str) -> tuple[str, int, int]:
    """The team with the most expenses in `month`, the company's expenses and the month's."""
    first = dt.date.fromisoformat(f"{month}-01")
    last = (first + dt.timedelta(days=32)).replace(day=1)
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        company_id = await connection.fetchval("SELECT id FROM companies WHERE slug = 'acme'")
        expenses = await connection.fetchval(
            "SELECT count(*) FROM expenses WHERE company_id = $1", company_id
        )
        row = await connection.fetchrow(
            "SELECT t.name, count(*) AS n FROM expenses e JOIN teams t ON t.id = e.team_id"
            " WHERE e.company_id = $1 AND e.spent_on >= $2 AND e.spent_on < $3"
            " GROUP BY t.name ORDER BY n DESC, t.name LIMIT 1",
            company_id,
            first,
            last,
        )
        in_month = await connection.fetchval(
            "SELECT count(*) FROM expenses WHERE company_id = $1 AND spent_on >= $2 AND spent_on < $3",
            company_id,
            first,
            last,
        )
    finally:
        await connection.close()
    return str(row["name"]), int(expenses), int(in_month)


def target_rows(section: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for the summary: the month on the large company, the team's quarter on
    each."""
    rows: list[tuple[str, str, bool | None]] = []
    large = section.get("large")
    if large:
        p50 = large["month"]["p50_ms"]
        rows.append(
            (
                f"review_expenses of one month ≤ {MONTH_TARGET_MS / 1000:g} s (large company, "
                f"{large['month']['expenses_reviewed']:,} expenses)",
                f"{p50:,} ms p50",
                p50 <= MONTH_TARGET_MS,
            )
        )
    for name, found in section.items():
        p50 = found["team_quarter"]["p50_ms"]
        rows.append(
            (
                f"review_expenses of one team's quarter ≤ {TEAM_QUARTER_TARGET_MS} ms ({name} company)",
                f"{p50:,} ms p50",
                p50 <= TEAM_QUARTER_TARGET_MS,
            )
        )
    return rows
