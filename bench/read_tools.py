"""Latency of each read tool through a real MCP client: in memory (server + database cost) and over
streamable HTTP on a real uvicorn (what an assistant pays)."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import func, select

from server.app import build_server
from server.db.engine import create_engine
from server.db.models import Expense, Team
from server.fakes.loopback import free_port
from server.http import http_app
from server.runtime import Runtime
from server.settings import Settings

Call = tuple[str, dict[str, Any]]
TOKEN = "bench-token"  # noqa: S105 - a loopback-only key made for this run


async def measure(url: str, *, calls: int, today: dt.date) -> dict[str, Any]:
    teams, refs, expenses = await _sample(url)
    workload = _workload(teams, refs, today)
    settings = Settings(database_url=url, today=today, api_keys={TOKEN: ""})
    results = []
    async with Client(build_server(settings, local_company="")) as client:
        results += await _run_all(client, "in-memory", workload, calls)
    async with _http_client(settings) as client:
        results += await _run_all(client, "http", workload, calls)
    return {"calls": calls, "expenses": expenses, "today": today.isoformat(), "results": results}


async def _sample(url: str) -> tuple[list[str], list[str], int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            teams = list(await connection.scalars(select(Team.name).order_by(Team.name)))
            refs = list(await connection.scalars(select(Expense.ref).order_by(Expense.id).limit(500)))
            expenses = int(await connection.scalar(select(func.count(Expense.id))) or 0)
    finally:
        await engine.dispose()
    return teams, refs, expenses


def _workload(teams: list[str], refs: list[str], today: dt.date) -> dict[str, Iterator[dict[str, Any]]]:
    """Each tool cycles through the kinds of question an assistant asks."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    searches: list[dict[str, Any]] = [
        {},
        {"uncategorized_only": True},
        {"merchant": "uber"},
        {"min_amount": "1000"},
    ]
    searches += [{"team": team, "date_from": f"{year}-01-01"} for team in teams]
    summaries: list[dict[str, Any]] = [
        {"group_by": group, "period": period}
        for group in ("category", "team", "merchant", "employee", "month")
        for period in (str(year - 1), f"{year}-Q{quarter}")
    ]
    return {
        "search_expenses": itertools.cycle(searches),
        "get_expense": itertools.cycle({"expense_id": ref} for ref in refs),
        "summarize_spend": itertools.cycle(summaries),
    }


async def _run_all(
    client: Client, transport: str, workload: dict[str, Iterator[dict[str, Any]]], calls: int
) -> list[dict[str, Any]]:
    return [await _run(client, transport, tool, arguments, calls) for tool, arguments in workload.items()]


async def _run(
    client: Client, transport: str, tool: str, arguments: Iterator[dict[str, Any]], calls: int
) -> dict[str, Any]:
    await client.call_tool(tool, next(arguments))  # warm-up: connection pool, statement caches
    timings, errors = [], 0
    for _ in range(calls):
        started = time.perf_counter()
        result = await client.call_tool(tool, next(arguments))
        timings.append((time.perf_counter() - started) * 1000)
        errors += bool(result.is_error)
    quantiles = statistics.quantiles(timings, n=100, method="inclusive")
    return {
        "transport": transport,
        "tool": tool,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(quantiles[94], 2),
        "p99_ms": round(quantiles[98], 2),
        "max_ms": round(max(timings), 2),
        "errors": errors,
    }


@asynccontextmanager
async def _http_client(settings: Settings) -> AsyncIterator[Client]:
    port = free_port()
    settings = settings.model_copy(update={"port": port})
    runtime = Runtime(settings, local_company=None)
    app = http_app(build_server(settings, local_company=None, runtime=runtime), runtime)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server.serve)
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await anyio.sleep(0.05)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client,
        ):
            yield client
        server.should_exit = True
