"""`review_expenses` through the real tool (an in-memory MCP client): one month of the whole company and
one team's quarter, against issue 22's targets (a month of the 1.7 million-expense company <= 2 s, a
team's quarter <= 200 ms).

    outlay bench --only review                  # the default company and the large one
    outlay bench --only review --quick          # the default company only
    .venv/bin/python -m bench.review_timing URL [URL ...]   # the same on any databases, side by side

The month is the last whole month before "today", the team the one with the most expenses in it, the
quarter the last whole quarter. A review's latency is its first page's, timed on a server without the
findings cache (every call a whole review: what a month's close waits for); then every page is read once
from a server with it (`later_pages_ms`: what the pages after the first cost), and the findings of all
pages are kept as (kind, refs...) so that two backends' can be compared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import statistics
import time
from typing import Any

from mcp import Client
from sqlalchemy import text

from server.app import build_server
from server.db.engine import create_engine
from server.settings import Settings

MONTH_TARGET_MS, TEAM_QUARTER_TARGET_MS = 2000, 200
PAGE = 100  # findings per page, the tool's largest


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
    """Each scope's review: `calls` timed first pages after a warm-up, then every page once."""
    month = scopes(today, "")["month"]["period"]
    team, expenses, in_month = await _company(database_url, month)
    found: dict[str, Any] = {"expenses": expenses, "month_expenses": in_month}
    uncached = Settings(database_url=database_url, today=today, review_cache_entries=0)
    cached = Settings(database_url=database_url, today=today)
    async with (
        Client(build_server(uncached, local_company="acme")) as fresh,
        Client(build_server(cached, local_company="acme")) as paging,
    ):
        for name, arguments in scopes(today, team).items():
            found[name] = await _timed(fresh, arguments, calls) | await _pages(paging, arguments)
    return found


async def _timed(client: Client, arguments: dict[str, Any], calls: int) -> dict[str, Any]:
    first = await client.call_tool("review_expenses", arguments | {"limit": PAGE})  # warm-up: pool, caches
    content = first.structured_content or {}
    timings, cpu = [], []
    for _ in range(calls):
        started, process = time.perf_counter(), time.process_time()
        await client.call_tool("review_expenses", arguments | {"limit": PAGE})
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - process) * 1000)
    return {
        "arguments": arguments,
        "error": str(first.content[0])[:300] if first.is_error else None,
        "expenses_reviewed": content.get("expenses_reviewed"),
        "findings": content.get("total"),
        "calls": calls,
        "p50_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        # This process's CPU (the server's Python; SQLite's work too, PostgreSQL's not): what a loaded
        # machine's wall time hides.
        "cpu_p50_ms": round(statistics.median(cpu), 1),
    }


async def _pages(client: Client, arguments: dict[str, Any]) -> dict[str, Any]:
    """Every page once through the cache: the later pages' mean latency, and every finding."""
    found: list[list[str]] = []
    timings: list[float] = []
    cursor: str | None = None
    while True:
        started = time.perf_counter()
        result = await client.call_tool("review_expenses", arguments | {"limit": PAGE, "cursor": cursor})
        timings.append((time.perf_counter() - started) * 1000)
        output = result.structured_content or {}
        found += [[f["kind"], *(e["id"] for e in f["expenses"])] for f in output.get("findings", [])]
        cursor = output.get("next_cursor")
        if not cursor:
            break
    later = timings[1:]
    return {
        "pages": len(timings),
        "later_pages_ms": round(statistics.mean(later), 1) if later else None,
        "findings_digest": hashlib.sha256(json.dumps(found).encode()).hexdigest()[:16],
        "found": found,
    }


async def _company(database_url: str, month: str) -> tuple[str, int, int]:
    """The team with the most expenses in `month`, the company's expenses and the month's (either
    backend)."""
    first = dt.date.fromisoformat(f"{month}-01")
    last = (first + dt.timedelta(days=32)).replace(day=1)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            company_id = (
                await connection.execute(text("SELECT id FROM companies WHERE slug = 'acme'"))
            ).scalar()
            known = {"company": company_id, "first": first, "last": last}
            expenses = await connection.scalar(
                text("SELECT count(*) FROM expenses WHERE company_id = :company"), known
            )
            row = (
                await connection.execute(
                    text(
                        "SELECT t.name, count(*) AS n FROM expenses e JOIN teams t ON t.id = e.team_id"
                        " WHERE e.company_id = :company AND e.spent_on >= :first AND e.spent_on < :last"
                        " GROUP BY t.name ORDER BY n DESC, t.name LIMIT 1"
                    ),
                    known,
                )
            ).one()
            in_month = await connection.scalar(
                text(
                    "SELECT count(*) FROM expenses"
                    " WHERE company_id = :company AND spent_on >= :first AND spent_on < :last"
                ),
                known,
            )
    finally:
        await engine.dispose()
    return str(row[0]), int(expenses or 0), int(in_month or 0)


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
