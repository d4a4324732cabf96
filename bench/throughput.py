"""Latency and throughput over streamable HTTP: `outlay serve --transport http` in its own process (real
uvicorn, loopback) and 1, 8, 32, 64 clients calling one tool back to back.

Two kinds of client: *wire* clients (bench/wire.py: one keep-alive connection each, the JSON-RPC an MCP
client posts, encoded once), light enough that the server's capacity is what is measured on a 2-core
machine; and the SDK's own `Client` (what an agent runs) at 1 and 32 clients, whose CPU per call is larger
than the server's. Per run: calls/s, p50/p95/p99, errors, the server's CPU time per call (from /proc, its
whole process tree), the load generator's own CPU per call, and the server's resident memory.

    outlay bench --only throughput [--seconds 5] [--clients 1,8,32,64] [--sdk-clients 1,32]
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import select

from bench import wire
from bench.read_tools import read_questions, sample_company
from bench.server_process import TOKEN, ServerProcess, http_server, server_env
from server.db.engine import create_engine
from server.db.models import ApprovalRequest, Expense

READ_TOOLS = ("get_expense", "search_expenses", "summarize_spend")
HEADLINE_TOOLS = ("categorize_expense", "suggest_approver", "forecast_budget")
CLIENTS = (1, 8, 32, 64)
SDK_CLIENTS = (1, 32)
WARM_SECONDS = 0.3

# Given a deadline and a tally, one coroutine per connected client, calling until the deadline.
Start = Callable[[float, wire.WireTally], list[Coroutine[Any, Any, None]]]


async def measure(
    database_url: str,
    *,
    today: dt.date,
    seconds: float,
    clients: tuple[int, ...] = CLIENTS,
    sdk_clients: tuple[int, ...] = SDK_CLIENTS,
    tools: tuple[str, ...] = READ_TOOLS + HEADLINE_TOOLS,
    log: Path,
) -> dict[str, Any]:
    """Every tool at every client count with wire clients, and at `sdk_clients` with the SDK's Client."""
    workload = await company_workload(database_url, today)
    env = server_env(database_url, today.isoformat())
    runs = []
    with http_server(env, log=log) as server:
        idle = server.memory_mb()
        url = f"{server.url}/mcp"
        for tool in tools:
            wired = WireLoad(url, wire.requests(url, TOKEN, tool, workload[tool]))
            for count in clients:
                runs.append(await _run(server, tool, count, seconds, wired))
            for count in sdk_clients:
                runs.append(await _run(server, tool, count, seconds, SdkLoad(url, tool, workload[tool])))
        memory = server.memory_mb()
    return {"seconds_per_run": seconds, "idle_after_start": idle, "memory_at_end": memory, "runs": runs}


async def company_workload(database_url: str, today: dt.date) -> dict[str, list[dict[str, Any]]]:
    """Arguments for each tool, drawn from the company: the read tools' mix of questions, the backlog to
    categorize, existing approval requests, every team's budget."""
    teams, refs = await sample_company(database_url)
    reads = read_questions(teams, refs, today)
    workload = {tool: list(itertools.islice(arguments, 200)) for tool, arguments in reads.items()}
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            backlog = await connection.scalars(
                select(Expense.ref).where(Expense.category_id.is_(None)).order_by(Expense.id).limit(200)
            )
            requests = await connection.scalars(
                select(ApprovalRequest.ref).order_by(ApprovalRequest.id.desc()).limit(200)
            )
            workload["categorize_expense"] = [{"expense_id": ref} for ref in backlog]
            workload["suggest_approver"] = [{"request_id": ref} for ref in requests]
    finally:
        await engine.dispose()
    workload["forecast_budget"] = [{"team": team} for team in teams]
    return workload


class Load(Protocol):
    @property
    def kind(self) -> str: ...

    def connected(self, clients: int) -> AbstractAsyncContextManager[Start]: ...


async def _run(server: ServerProcess, tool: str, clients: int, seconds: float, load: Load) -> dict[str, Any]:
    async with load.connected(clients) as start:
        await _timed(start, time.monotonic() + WARM_SECONDS, wire.WireTally())  # pools, caches, imports
        tally = wire.WireTally()
        cpu_before, own_before = server.cpu_seconds(), time.process_time()
        started = time.monotonic()
        await _timed(start, started + seconds, tally)
        elapsed = time.monotonic() - started
        server_cpu, own_cpu = server.cpu_seconds() - cpu_before, time.process_time() - own_before
    calls = len(tally.timings)
    return {
        "tool": tool,
        "client": load.kind,
        "clients": clients,
        "calls": calls,
        "calls_per_s": round(calls / elapsed, 1),
        "errors": len(tally.errors),
        "error_sample": tally.errors[0] if tally.errors else None,
        **quantiles(tally.timings),
        "server_cpu_ms_per_call": round(server_cpu * 1000 / max(calls, 1), 2),
        "client_cpu_ms_per_call": round(own_cpu * 1000 / max(calls, 1), 2),
        **server.memory_mb(),
    }


async def _timed(start: Start, deadline: float, tally: wire.WireTally) -> None:
    async with anyio.create_task_group() as tasks:
        for client in start(deadline, tally):
            tasks.start_soon(_awaited, client)


async def _awaited(client: Coroutine[Any, Any, None]) -> None:
    await client


@dataclass(frozen=True)
class WireLoad:
    """Wire clients; their connections open as they start (cheap, and inside the warm-up too)."""

    url: str
    encoded: list[bytes]
    kind: str = "wire"

    @asynccontextmanager
    async def connected(self, clients: int) -> AsyncIterator[Start]:
        def start(deadline: float, tally: wire.WireTally) -> list[Coroutine[Any, Any, None]]:
            return [
                wire.call_until(self.url, self.encoded, 7 * index, deadline, tally)
                for index in range(clients)
            ]

        yield start


@dataclass(frozen=True)
class SdkLoad:
    """The SDK's `Client`, as an agent runs it; the sessions open before the timer starts."""

    url: str
    tool: str
    arguments: list[dict[str, Any]]
    kind: str = "sdk"

    @asynccontextmanager
    async def connected(self, clients: int) -> AsyncIterator[Start]:
        limits = httpx2.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with AsyncExitStack() as stack:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(headers=headers, timeout=120, limits=limits)
            )
            sessions = [
                await stack.enter_async_context(Client(streamable_http_client(self.url, http_client=http)))
                for _ in range(clients)
            ]

            def start(deadline: float, tally: wire.WireTally) -> list[Coroutine[Any, Any, None]]:
                return [
                    self._calls(session, 7 * index, deadline, tally) for index, session in enumerate(sessions)
                ]

            yield start

    async def _calls(self, session: Client, offset: int, deadline: float, tally: wire.WireTally) -> None:
        for arguments in itertools.islice(itertools.cycle(self.arguments), offset, None):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            result = await session.call_tool(self.tool, arguments)
            tally.timings.append((time.perf_counter() - started) * 1000)
            if result.is_error:
                tally.errors.append(str(result.content[0])[:200])


def quantiles(timings: list[float]) -> dict[str, float]:
    if len(timings) < 2:
        only = round(timings[0], 2) if timings else 0.0
        return {"p50_ms": only, "p95_ms": only, "p99_ms": only}
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2), "p99_ms": round(cuts[98], 2)}


def render(result: dict[str, Any], title: str) -> str:
    idle = result["idle_after_start"]
    lines = [
        f"### {title}",
        "",
        f"{result['seconds_per_run']} s per run; server RSS {idle['rss_mb']} MB after start, "
        f"peak {result['memory_at_end']['peak_rss_mb']} MB over the runs. CPU per call: the server's "
        "process tree, and the load generator's (same machine). Clients: wire (light, the server's "
        "capacity) or sdk (the mcp SDK's Client, as an agent runs it).",
        "",
        "| tool | client | clients | calls/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/call "
        "| client CPU ms/call | server RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in result["runs"]:
        lines.append(
            f"| {run['tool']} | {run['client']} | {run['clients']} | {run['calls_per_s']} | {run['p50_ms']} "
            f"| {run['p95_ms']} | {run['p99_ms']} | {run['errors']} | {run['server_cpu_ms_per_call']} "
            f"| {run['client_cpu_ms_per_call']} | {run['rss_mb']} |"
        )
    return "\n".join(lines) + "\n"
