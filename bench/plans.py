"""The scaling curve of summarize_spend, search_expenses and get_expense, and their query plans.

Each question is asked through an in-memory MCP client (the server's own SQL, its own parameters) with
every statement it sends recorded; each recorded SELECT is then explained on PostgreSQL as a tool call
runs it (the tool-call role, the caller's company in `outlay.company_id`), and every sequential scan of a
table that grows with the company is reported: those are what make latency grow with the data.

    outlay bench --only scaling
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from mcp import Client
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.app import build_server
from server.db.engine import libpq_url
from server.db.tenancy import COMPANY_SETTING
from server.settings import Settings

# Tables whose size follows the company's activity; a sequential scan of the others (teams, categories,
# merchants, a few hundred rows) is the planner's right choice.
GROWING_TABLES = frozenset(
    {"expenses", "spend_monthly", "team_daily_spend", "repeat_charges", "approval_requests", "audit_events"}
)


def questions(today: dt.date, team: str, expense: str) -> list[tuple[str, dict[str, Any]]]:
    year, last_year = today.year, today.year - 1
    quarter = (today.month - 1) // 3 + 1
    return [
        ("summarize_spend", {"group_by": "category", "period": str(last_year)}),
        ("summarize_spend", {"group_by": "team", "period": str(last_year)}),
        ("summarize_spend", {"group_by": "month", "period": str(last_year)}),
        ("summarize_spend", {"group_by": "merchant", "period": str(last_year)}),
        ("summarize_spend", {"group_by": "employee", "period": f"{year}-Q{quarter}"}),
        ("summarize_spend", {"group_by": "category", "period": f"{year}-Q{quarter}", "team": team}),
        ("search_expenses", {}),
        ("search_expenses", {"merchant": "uber", "date_from": f"{year}-01-01"}),
        ("search_expenses", {"team": team, "date_from": f"{year}-01-01"}),
        ("search_expenses", {"min_amount": "1000"}),
        ("search_expenses", {"uncategorized_only": True}),
        ("get_expense", {"expense_id": expense}),
    ]


async def measure(database_url: str, *, today: dt.date, calls: int) -> dict[str, Any]:
    settings = Settings(database_url=database_url, today=today)
    company_id, expenses, team, expense = await _company(database_url)
    rows = []
    async with Client(build_server(settings, local_company="acme")) as client:
        for tool, arguments in questions(today, team, expense):
            with _recorded() as statements:
                first = await client.call_tool(tool, arguments)
            timings = []
            for _ in range(calls):
                started = time.perf_counter()
                await client.call_tool(tool, arguments)
                timings.append((time.perf_counter() - started) * 1000)
            scans = await _sequential_scans(database_url, settings.tenant_role, company_id, statements)
            rows.append(
                {
                    "tool": tool,
                    "arguments": arguments,
                    "error": str(first.content[0])[:300] if first.is_error else None,
                    "p50_ms": round(statistics.median(timings), 2),
                    "statements": len(statements),
                    "seq_scans": scans,
                }
            )
    return {"expenses": expenses, "questions": rows}


async def _company(database_url: str) -> tuple[int, int, str, str]:
    """The demo company's id, its expenses, its busiest team (the team questions' subject) and the newest
    expense with an approval request (the point lookup's)."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        company_id = await connection.fetchval("SELECT id FROM companies WHERE slug = 'acme'")
        expenses = await connection.fetchval(
            "SELECT count(*) FROM expenses WHERE company_id = $1", company_id
        )
        team = await connection.fetchval(
            "SELECT t.name FROM teams t JOIN team_daily_spend d ON d.team_id = t.id WHERE t.company_id = $1"
            " GROUP BY t.name ORDER BY sum(d.expenses) DESC, t.name LIMIT 1",
            company_id,
        )
        expense = await connection.fetchval(
            "SELECT e.ref FROM expenses e JOIN approval_requests r ON r.expense_id = e.id"
            " WHERE e.company_id = $1 ORDER BY e.id DESC LIMIT 1",
            company_id,
        )
    finally:
        await connection.close()
    return int(company_id), int(expenses), str(team), str(expense)


@contextmanager
def _recorded() -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT any engine sends while the block runs, as sent (asyncpg's $n placeholders)."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "set_config" not in statement:
            statements.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def _sequential_scans(
    database_url: str, role: str, company_id: int, statements: list[tuple[str, Any]]
) -> list[str]:
    connection = await asyncpg.connect(libpq_url(database_url))
    found: list[str] = []
    try:
        for statement, parameters in statements:
            async with connection.transaction():
                await connection.execute(
                    "SELECT set_config('role', $1, true), set_config($2, $3, true)",
                    role,
                    COMPANY_SETTING,
                    str(company_id),
                )
                plan = await connection.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *(parameters or ()))
            found += [
                relation
                for relation in _scanned(json.loads(plan)[0]["Plan"])
                if relation.split()[0] in GROWING_TABLES and relation not in found
            ]
    finally:
        await connection.close()
    return found


def _scanned(node: dict[str, Any], limited: bool = False) -> Iterator[str]:
    """The tables read by sequential scans; "(under LIMIT)" when a Limit above stops the scan early."""
    limited = limited or node.get("Node Type") == "Limit"
    if node.get("Node Type") == "Seq Scan":
        yield str(node.get("Relation Name")) + (" (under LIMIT)" if limited else "")
    for child in node.get("Plans", []):
        yield from _scanned(child, limited)


def scaling(small: dict[str, Any], large: dict[str, Any]) -> list[dict[str, Any]]:
    """The same questions on both companies, side by side: how latency grew with the data."""
    rows = []
    for before, after in zip(small["questions"], large["questions"], strict=True):
        rows.append(
            {
                "tool": before["tool"],
                "arguments": before["arguments"],
                "small_p50_ms": before["p50_ms"],
                "large_p50_ms": after["p50_ms"],
                "growth": round(after["p50_ms"] / before["p50_ms"], 2) if before["p50_ms"] else None,
                "seq_scans_large": after["seq_scans"],
                "errors": [error for error in (before["error"], after["error"]) if error],
            }
        )
    return rows


def render(small: dict[str, Any], large: dict[str, Any] | None) -> str:
    if large is None:
        lines = [
            f"In-memory client, {small['expenses']:,} expenses (the large company was not measured).",
            "",
            "| tool | arguments | p50 ms | sequential scans of growing tables |",
            "| --- | --- | --- | --- |",
        ]
        for row in small["questions"]:
            lines.append(
                f"| {row['tool']} | `{json.dumps(row['arguments'])}` | {row['p50_ms']} "
                f"| {', '.join(row['seq_scans']) or 'none'} |"
            )
        return "\n".join(lines) + "\n"
    ratio = large["expenses"] / max(small["expenses"], 1)
    lines = [
        f"In-memory client; {small['expenses']:,} → {large['expenses']:,} expenses ({ratio:.0f}× the data).",
        "",
        "| tool | arguments | default p50 ms | large p50 ms | growth | sequential scans (large) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in scaling(small, large):
        lines.append(
            f"| {row['tool']} | `{json.dumps(row['arguments'])}` | {row['small_p50_ms']} "
            f"| {row['large_p50_ms']} | {row['growth']}× | {', '.join(row['seq_scans_large']) or 'none'} |"
        )
    return "\n".join(lines) + "\n"
