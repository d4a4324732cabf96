"""Side by side on the same data, machine and run: the raw SQL floor (asyncpg), the generic PostgreSQL MCP
server (npm `@modelcontextprotocol/server-postgres`, its `query` tool) and ours over stdio, streamable
HTTP and in memory. Every system answers every question; the calls are interleaved round by round
(A B C D, A B C D, ...) so that machine noise hits all alike, and every answer is compared with the
raw SQL's.

    python -m bench.side_by_side [--database-url URL] [--calls 50] [--company acme] [--today 2026-11-15]
                                 [--baseline NAME=DIR ...]

`--baseline main=/path/to/a/checkout` adds ours over stdio as that checkout's code runs it (the server
spawned with PYTHONPATH=DIR), interleaved with the others: a before/after in one run. Beside each
system's latency: the CPU its process spent per call (the spawned servers and the generic one), and
ours over the bare `mcp` server's (bench/bare_server.py: the same statements, none of our layers).

Results go to var/bench/ (git ignores it): side_by_side-<database>-<stamp>.json and .md. The database
must already hold the demo company (`make bench` loads it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
    contextmanager,
    suppress,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from sqlalchemy.engine import make_url

from bench.questions import Dataset, Normalized, Question, Rows, questions, read_dataset
from bench.server_process import (
    OUTLAY,
    TOKEN,
    ServerProcess,
    children,
    cpu_seconds_of,
    http_server,
    server_env,
)
from server.app import build_server
from server.context import AppContext
from server.db.engine import libpq_url
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench"  # as bench.run: git ignores it
NODE_DIR = Path(__file__).parent / "node"
GENERIC_SCRIPT = NODE_DIR / "node_modules/@modelcontextprotocol/server-postgres/dist/index.js"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/outlay_bench"


class AnswerError(Exception):
    """A system answered with an error instead of a result."""


@dataclass(frozen=True)
class System:
    name: str
    call: Callable[[Question], Awaitable[Any]]  # timed
    answer: Callable[[Question, Any], Normalized] | None  # not timed; None: timing only (the floors)
    cpu: Callable[[], float] | None = None  # CPU seconds its server process has spent so far


@dataclass
class Tally:
    timings: list[float]
    mismatches: int = 0
    errors: int = 0
    first_problem: str | None = None
    cpu_ms: float | None = None  # CPU of its server process per call
    client_cpu: list[float] = field(default_factory=list)  # CPU of this process (the client) per call, ms

    def record(self, ms: float, problem: str | None, *, error: bool, client_ms: float) -> None:
        self.timings.append(ms)
        self.client_cpu.append(client_ms)
        if problem is not None:
            self.errors += error
            self.mismatches += not error
            self.first_problem = self.first_problem or problem


async def compare(
    database_url: str,
    *,
    today: dt.date,
    calls: int,
    company: str = "acme",
    baselines: dict[str, str] | None = None,
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Every question through every system, `calls` timed rounds each after one warm-up round;
    `baselines`: name -> a checkout whose code serves one more stdio system; `only`: the questions whose
    names hold one of these (all when empty); `skip`: systems left out (http, in-memory)."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        dataset = await read_dataset(connection, company, today)
        expenses = await connection.fetchval(
            "SELECT count(*) FROM expenses WHERE company_id = $1", dataset.company_id
        )
        asked = [q for q in questions(dataset) if not only or any(part in q.name for part in only)]
        opening = _systems(connection, database_url, today, company, dataset, asked, baselines or {}, skip)
        async with opening as opened:
            systems, generic = opened
            rows = [await measure_question(question, systems, calls) for question in asked]
    finally:
        await connection.close()
    return {
        "database": make_url(database_url).database,
        "company": company,
        "expenses": int(expenses),
        "today": today.isoformat(),
        "calls": calls,
        "generic": generic,
        "baselines": baselines or {},
        "questions": rows,
        "targets": _targets(rows),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.system()},
    }


# ---- the systems -----------------------------------------------------------------------------------


@asynccontextmanager
async def _systems(
    connection: asyncpg.Connection,
    database_url: str,
    today: dt.date,
    slug: str,
    dataset: Dataset,
    asked: list[Question],
    baselines: dict[str, str],
    skip: tuple[str, ...] = (),
) -> AsyncIterator[tuple[list[System], dict[str, str]]]:
    """Every system, ready and connected: the raw SQL, the bare `mcp` server, the generic server when
    node/npm are here, and ours over stdio, HTTP (both spawned as deployed) and in memory. Also: what
    became of the generic server."""
    async with AsyncExitStack() as stack:
        stack.enter_context(_restore_logging())
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="side_by_side-")))
        systems = _raw(connection, dataset.company_id)
        client, cpu = await _spawned(stack, _bare_client(database_url, asked, logs))
        systems.append(System("bare", _bare_call(client, asked), None, cpu))
        if "bare sql" not in skip:  # the Python SDK's floor: the generic server's SQL, round trips, answer
            client, cpu = await _spawned(stack, _bare_client(database_url, asked, logs, like_generic=True))
            systems.append(System("bare sql", _bare_call(client, asked), _generic_answer, cpu))
        generic = _generic_ready()
        if generic["status"] == "ran":
            client, cpu = await _spawned(stack, _generic_client(database_url, logs))
            systems.append(System("generic", _generic_call(client), _generic_answer, cpu))
        keys = json.dumps({TOKEN: slug})
        env = server_env(database_url, today.isoformat(), OUTLAY_COMPANY=slug, OUTLAY_API_KEYS=keys)
        stdio = {"stdio": env} | {
            f"stdio@{name}": env | {"PYTHONPATH": path} for name, path in baselines.items()
        }
        for name, server_env_ in stdio.items():
            client, cpu = await _spawned(stack, _stdio_client(server_env_, logs / f"{name}.log"))
            systems.append(System(name, _tool_call(client), _tool_answer, cpu))
        if "http" not in skip:
            http, server = await stack.enter_async_context(_http_client(env, logs / "http.log"))
            systems.append(System("http", _tool_call(http), _tool_answer, server.cpu_seconds))
        if "in-memory" not in skip:
            in_memory = await stack.enter_async_context(Client(_in_memory(database_url, today, slug)))
            systems.append(System("in-memory", _tool_call(in_memory), _tool_answer))
        yield systems, generic


async def _spawned(
    stack: AsyncExitStack, opening: AbstractAsyncContextManager[Client]
) -> tuple[Client, Callable[[], float]]:
    """A client of a server it spawns, and that server's CPU so far."""
    before = children()
    client = await stack.enter_async_context(opening)
    [pid] = children() - before
    return client, lambda: cpu_seconds_of(pid)


@asynccontextmanager
async def _stdio_client(env: dict[str, str], log: Path) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=OUTLAY, args=["serve", "--transport", "stdio"], env=env)
    with log.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            yield client


@contextmanager
def _restore_logging() -> Iterator[None]:
    """The root logger's level as it was: building the in-memory server changes it (see `_in_memory`)."""
    root = logging.getLogger()
    level = root.level
    try:
        yield
    finally:
        root.setLevel(level)


# What our server does before a tool's statements (server/db/tenancy.py): the tool-call role, under which
# row-level security applies (the bench connects as a superuser, which bypasses it), and the company.
TENANT_ROLE = str(Settings.model_fields["tenant_role"].default)
_ENTER_TENANT = "SELECT set_config('role', $1, true), set_config('outlay.company_id', $2, true)"


def _raw(connection: asyncpg.Connection, company_id: int) -> list[System]:
    async def fetch(question: Question) -> list[asyncpg.Record]:
        records: list[asyncpg.Record] = await connection.fetch(question.sql)
        return records

    async def floor(question: Question) -> None:
        for statement in question.floor_statements:
            await connection.fetch(statement)

    async def tenant_floor(question: Question) -> None:
        async with connection.transaction():
            await connection.execute(_ENTER_TENANT, TENANT_ROLE, str(company_id))
            await floor(question)

    return [
        System("raw", fetch, lambda question, records: question.from_rows([dict(r) for r in records])),
        System("floor", floor, None),
        System("tenant floor", tenant_floor, None),
    ]


@asynccontextmanager
async def _bare_client(
    database_url: str, asked: list[Question], logs: Path, *, like_generic: bool = False
) -> AsyncIterator[Client]:
    """bench/bare_server.py over stdio: one tool per question running the statements ours runs; or,
    `like_generic`, the generic server's statement as it runs it (READ ONLY transaction, rows as text)."""
    name = "bare-sql" if like_generic else "bare"
    statements = logs / f"{name}.json"
    sql = {f"q{i}": [q.sql] if like_generic else list(q.floor_statements) for i, q in enumerate(asked)}
    statements.write_text(json.dumps(sql))
    args = ["-m", "bench.bare_server", libpq_url(database_url), str(statements)]
    args += ["--like-generic"] if like_generic else []
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    params = StdioServerParameters(command=sys.executable, args=args, env=env)
    with (logs / f"{name}.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            yield client


def _bare_call(client: Client, asked: list[Question]) -> Callable[[Question], Awaitable[Any]]:
    names = {question.name: f"q{i}" for i, question in enumerate(asked)}

    async def call(question: Question) -> Any:
        result = await client.call_tool(names[question.name], {})
        if result.is_error:
            raise MCPError(code=0, message="".join(getattr(b, "text", "") for b in result.content)[:300])
        return result

    return call


def _generic_ready() -> dict[str, str]:
    """The generic server installed from bench/node/package-lock.json, or why it cannot run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return {"status": "skipped", "reason": "node/npm not on PATH"}
    if not GENERIC_SCRIPT.exists():
        command = [npm, "ci", "--prefix", str(NODE_DIR)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not GENERIC_SCRIPT.exists():
            return {"status": "skipped", "reason": f"npm ci failed: {done.stderr.strip()[-300:]}"}
    return {"status": "ran", "reason": "@modelcontextprotocol/server-postgres 0.6.2 (bench/node)"}


@asynccontextmanager
async def _generic_client(database_url: str, logs: Path) -> AsyncIterator[Client]:
    params = StdioServerParameters(command="node", args=[str(GENERIC_SCRIPT), libpq_url(database_url)])
    with (logs / "generic.log").open("w") as errlog:
        # It speaks protocol 2024-11-05 (TypeScript SDK 1.0.1): the handshake era.
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            yield client


def _generic_call(client: Client) -> Callable[[Question], Awaitable[Any]]:
    async def call(question: Question) -> Any:
        return await client.call_tool("query", {"sql": question.sql})

    return call


def _generic_answer(question: Question, result: Any) -> Normalized:
    text = "".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        raise AnswerError(text[:300])
    rows: Rows = json.loads(text)
    return question.from_rows(rows)


def _tool_call(client: Client) -> Callable[[Question], Awaitable[Any]]:
    async def call(question: Question) -> Any:
        return await client.call_tool(question.tool, question.arguments)

    return call


def _tool_answer(question: Question, result: Any) -> Normalized:
    if result.is_error or result.structured_content is None:
        raise AnswerError("".join(getattr(block, "text", "") for block in result.content)[:300])
    return question.from_tool(result.structured_content)


def _in_memory(database_url: str, today: dt.date, company: str) -> MCPServer[AppContext]:
    settings = Settings(database_url=database_url, today=today, company=company, log_level="WARNING")
    server = build_server(settings, local_company=company)
    # The SDK's MCPServer sets the root logger to INFO; the spawned servers log warnings only, and a log
    # line per call in this process would be measured on the in-memory and HTTP clients alone.
    logging.getLogger().setLevel(logging.WARNING)
    return server


@asynccontextmanager
async def _http_client(env: dict[str, str], log: Path) -> AsyncIterator[tuple[Client, ServerProcess]]:
    """`outlay serve --transport http` on a free port, as deployed, and a client with the bench key."""
    with http_server(env, log=log) as server:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as client,
        ):
            yield client, server


# ---- measuring -------------------------------------------------------------------------------------


async def measure_question(question: Question, systems: list[System], calls: int) -> dict[str, Any]:
    expected = question.from_rows([dict(r) for r in await _warm(question, systems)])
    tallies = {system.name: Tally([]) for system in systems}
    cpu = {system.name: system.cpu() for system in systems if system.cpu is not None}
    for _ in range(calls):
        for system in systems:
            client = time.process_time()
            ms, problem, error = await _once(system, question, expected)
            client_ms = (time.process_time() - client) * 1000  # answer checks included: see _once
            tallies[system.name].record(ms, problem, error=error, client_ms=client_ms)
    for system in systems:  # the whole of the rounds: what a server does after its answer counts too
        tallies[system.name].cpu_ms = _per_call(system, cpu, calls)
    results = {system.name: _summary(tallies[system.name], system) for system in systems}
    return {
        "question": question.name,
        "tool": question.tool,
        "arguments": question.arguments,
        "sql": question.sql,
        "floor_statements": len(question.floor_statements),
        "systems": results,
        "ratios": _ratios(results),
    }


async def _warm(question: Question, systems: list[System]) -> list[asyncpg.Record]:
    """One untimed round: connection pools, statement caches, imports. Returns the raw SQL's rows."""
    records: list[asyncpg.Record] = await systems[0].call(question)
    for system in systems[1:]:
        with suppress(MCPError, asyncpg.PostgresError):  # counted in the timed rounds
            await system.call(question)
    return records


async def _once(system: System, question: Question, expected: Normalized) -> tuple[float, str | None, bool]:
    started = time.perf_counter()
    try:
        payload = await system.call(question)
    except (MCPError, asyncpg.PostgresError) as exc:
        return (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}", True
    ms = (time.perf_counter() - started) * 1000
    if system.answer is None:
        return ms, None, False
    try:
        answer = system.answer(question, payload)
    except (AnswerError, KeyError, TypeError, ValueError) as exc:
        return ms, f"{type(exc).__name__}: {exc}", True
    if answer == expected:
        return ms, None, False
    return ms, f"answer differs: {_short(answer)} != {_short(expected)}", False


def _per_call(system: System, started: dict[str, float], calls: int) -> float | None:
    if system.cpu is None:
        return None
    return round((system.cpu() - started[system.name]) * 1000 / calls, 2)


def _short(value: Normalized) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


def _summary(tally: Tally, system: System) -> dict[str, Any]:
    timings = tally.timings
    p95 = statistics.quantiles(timings, n=100, method="inclusive")[94] if len(timings) > 1 else timings[0]
    return {
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(p95, 3),
        "cpu_ms_per_call": tally.cpu_ms,
        "client_cpu_ms_per_call": round(statistics.mean(tally.client_cpu), 3) if tally.client_cpu else None,
        "matched": None if system.answer is None else tally.mismatches == 0 and tally.errors == 0,
        "mismatches": tally.mismatches,
        "errors": tally.errors,
        "problem": tally.first_problem,
    }


def _ratio(results: dict[str, Any], top: str, bottom: str) -> float | None:
    if top not in results or bottom not in results or not results[bottom]["p50_ms"]:
        return None
    return round(float(results[top]["p50_ms"]) / float(results[bottom]["p50_ms"]), 2)


def _cpu_ratio(results: dict[str, Any], top: str, bottom: str) -> float | None:
    ours, theirs = (results.get(name, {}).get("cpu_ms_per_call") for name in (top, bottom))
    return None if ours is None or not theirs else round(float(ours) / float(theirs), 2)


def _ratios(results: dict[str, Any]) -> dict[str, Any]:
    stdio = results["stdio"]["p50_ms"]
    baselines = [name for name in results if name.startswith("stdio@")]
    return {
        "ours_over_generic": _ratio(results, "stdio", "generic"),
        "baselines_over_generic": {name: _ratio(results, name, "generic") for name in baselines},
        "ours_over_baselines": {name: _ratio(results, "stdio", name) for name in baselines},
        "cpu_ours_over_generic": _cpu_ratio(results, "stdio", "generic"),
        "cpu_ours_over_bare": _cpu_ratio(results, "stdio", "bare"),
        "bare_sql_over_generic": _ratio(results, "bare sql", "generic"),
        "cpu_bare_sql_over_generic": _cpu_ratio(results, "bare sql", "generic"),
        "cpu_baselines_over_bare": {name: _cpu_ratio(results, name, "bare") for name in baselines},
        "ours_over_raw": _ratio(results, "stdio", "raw"),
        "ours_over_floor": _ratio(results, "stdio", "floor"),
        "generic_over_raw": _ratio(results, "generic", "raw"),
        "http_over_stdio": _ratio(results, "http", "stdio"),
        "overhead_ms": round(stdio - results["floor"]["p50_ms"], 3),
        "overhead_over_tenant_floor_ms": round(stdio - results["tenant floor"]["p50_ms"], 3),
    }


def _year_summaries(rows: list[dict[str, Any]], groupings: tuple[str, ...]) -> list[dict[str, Any]]:
    """The summarize_spend questions over a whole year grouped by one of `groupings`."""
    return [
        row
        for row in rows
        if row["tool"] == "summarize_spend"
        and len(row["arguments"]["period"]) == 4
        and row["arguments"]["group_by"] in groupings
    ]


def _targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 10: a one-year spend aggregate in <= 0.5x the generic server's time with the same answer (the
    issue's reference question; the other spend questions are reported beside it); get_expense over stdio
    <= 1.5 ms p50 above its SQL floor."""
    spend = _year_summaries(rows, ("category", "team", "month"))
    # Issue 23: the year's merchant and employee groupings at most 0.5x too (on the large company).
    groupings = _year_summaries(rows, ("merchant", "employee"))
    grouping_ratios = {row["question"]: row["ratios"]["ours_over_generic"] for row in groupings}
    lookup = next((row for row in rows if row["tool"] == "get_expense"), None)  # None: not asked
    overhead = None if lookup is None else lookup["ratios"]["overhead_ms"]
    ratios = [row["ratios"]["ours_over_generic"] for row in spend]
    others = [row for row in rows if row["tool"] == "summarize_spend" and row not in spend + groupings]
    every = {row["question"]: row["ratios"]["ours_over_generic"] for row in rows}
    return {
        "ratios_ours_over_generic": every,
        "every_question_at_most_generic": None
        if None in every.values()
        else all(r <= 1.0 for r in every.values())
        and all(row["systems"]["stdio"]["matched"] and row["systems"]["generic"]["matched"] for row in rows),
        "other_spend_ratios": {row["question"]: row["ratios"]["ours_over_generic"] for row in others},
        "spend_at_most_half_of_generic": None
        if None in ratios
        else all(r is not None and r <= 0.5 for r in ratios)
        and all(row["systems"]["stdio"]["matched"] and row["systems"]["generic"]["matched"] for row in spend),
        "spend_ratios": ratios,
        "grouping_ratios": grouping_ratios,
        "groupings_at_most_half_of_generic": None
        if not groupings or None in grouping_ratios.values()
        else all(r <= 0.5 for r in grouping_ratios.values())
        and all(row["systems"]["stdio"]["matched"] for row in groupings),
        "get_expense_overhead_ms": overhead,
        "get_expense_overhead_at_most_1_5_ms": None if overhead is None else overhead <= 1.5,
    }


# ---- report ----------------------------------------------------------------------------------------

COLUMNS = ("raw", "floor", "tenant floor", "bare", "bare sql", "generic", "stdio", "http", "in-memory")


def render(result: dict[str, Any]) -> str:
    generic = result["generic"]
    columns = _columns(result)
    lines = [
        f"# Side by side: {result['database']} ({result['expenses']} expenses of {result['company']}), "
        f"{result['calls']} interleaved calls per system, today {result['today']}",
        "",
        f"Generic server: {generic['status']} ({generic['reason']}).",
        "",
        "p50 / p95 ms; ✓ the answer matched the raw SQL's on every call, ✗ it did not. raw: the SQL an "
        "agent would send (asyncpg, superuser); floor: the statements our tool runs, as superuser; tenant "
        "floor: the same under the tool-call role and company, so row-level security applies as in our "
        "server; ours = stdio; overhead: ours p50 - floor p50 (and - tenant floor p50).",
        "",
        "| question | " + " | ".join(columns) + " | ours/generic | ours/raw | generic/raw | http/stdio "
        "| overhead ms | over tenant floor ms |",
        "| --- " * (len(columns) + 7) + "|",
    ]
    lines += [_row(row, columns) for row in result["questions"]]
    lines += ["", *_cpu_lines(result, columns), *_baseline_lines(result)]
    lines += [*_problems(result["questions"]), *_target_lines(result["targets"])]
    return "\n".join(lines) + "\n"


def _columns(result: dict[str, Any]) -> list[str]:
    """The systems in the report's order, a baseline's stdio just before ours."""
    baselines = [f"stdio@{name}" for name in result.get("baselines", {})]
    at = COLUMNS.index("stdio")
    return [*COLUMNS[:at], *baselines, *COLUMNS[at:]]


def _cpu_lines(result: dict[str, Any], columns: list[str]) -> list[str]:
    measured = [
        name
        for name in columns
        if name in ("bare", "bare sql", "generic", "http") or name.startswith("stdio")
    ]
    over_bare = ["stdio", *(name for name in measured if name.startswith("stdio@"))]
    lines = [
        "CPU ms per call of each server process (user + system over the timed rounds, from /proc); bare: "
        "a bare `mcp` server running the statements ours runs (bench/bare_server.py), so ours/bare is the "
        "price of our layers (issue 23: at most 2x):",
        "",
        "| question | "
        + " | ".join(measured)
        + " | ours/generic | "
        + " | ".join(f"{name}/bare" for name in over_bare)
        + " |",
        "| --- " * (len(measured) + 2 + len(over_bare)) + "|",
    ]
    for row in result["questions"]:
        cells = [row["question"]]
        for name in measured:
            cpu = row["systems"].get(name, {}).get("cpu_ms_per_call")
            cells.append("—" if cpu is None else f"{cpu:.2f}")
        ratios = row["ratios"]
        over = [ratios.get("cpu_ours_over_generic"), ratios.get("cpu_ours_over_bare")]
        over += [ratios.get("cpu_baselines_over_bare", {}).get(name) for name in over_bare[1:]]
        cells += ["—" if ratio is None else f"{ratio:.2f}" for ratio in over]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *_floor_lines(result, columns)]
    return [*lines, ""]


def _floor_lines(result: dict[str, Any], columns: list[str]) -> list[str]:
    """The Python SDK's floor: a bare `mcp` server running the generic server's statement as it runs it,
    against the generic server; and the client's CPU per call (this process: the SDK client, the answer
    checks) with each server."""
    if "bare sql" not in columns:
        return []
    clients = [
        name for name in columns if name in ("bare", "bare sql", "generic") or name.startswith("stdio")
    ]
    lines = [
        "The floor (bare sql: a bare `mcp` Python server running the generic server's statement in a READ "
        "ONLY transaction, rows as a JSON text block): p50 and server CPU ms per call, ratio to the generic "
        "server; client CPU ms per call (this process, answer check included) with each server:",
        "",
        "| question | bare sql p50 | generic p50 | p50 ratio | bare sql CPU | generic CPU | CPU ratio | "
        + " | ".join(f"client CPU with {name}" for name in clients)
        + " |",
        "| --- " * (7 + len(clients)) + "|",
    ]
    for row in result["questions"]:
        systems, ratios = row["systems"], row["ratios"]
        bare, generic = systems.get("bare sql", {}), systems.get("generic", {})
        cells = [
            row["question"],
            bare.get("p50_ms"),
            generic.get("p50_ms"),
            ratios.get("bare_sql_over_generic"),
        ]
        cells += [bare.get("cpu_ms_per_call"), generic.get("cpu_ms_per_call")]
        cells += [ratios.get("cpu_bare_sql_over_generic")]
        cells += [systems.get(name, {}).get("client_cpu_ms_per_call") for name in clients]
        lines.append("| " + " | ".join("—" if c is None else str(c) for c in cells) + " |")
    return lines


def _baseline_lines(result: dict[str, Any]) -> list[str]:
    if not result.get("baselines"):
        return []
    lines = [
        "Baselines (the same server from another checkout, interleaved): "
        + ", ".join(f"{name} = {path}" for name, path in result["baselines"].items()),
        "",
        "| question | baseline | baseline/generic | ours/generic | ours/baseline |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in result["questions"]:
        ratios = row["ratios"]
        for name, over_generic in ratios["baselines_over_generic"].items():
            cells = [row["question"], name, over_generic, ratios["ours_over_generic"]]
            cells.append(ratios["ours_over_baselines"][name])
            lines.append("| " + " | ".join("—" if c is None else str(c) for c in cells) + " |")
    return [*lines, ""]


def _row(row: dict[str, Any], columns: list[str]) -> str:
    cells = [row["question"]]
    for name in columns:
        system = row["systems"].get(name)
        mark = "" if system is None or system["matched"] is None else " ✓" if system["matched"] else " ✗"
        cells.append("—" if system is None else f"{system['p50_ms']:.2f} / {system['p95_ms']:.2f}{mark}")
    ratios = row["ratios"]
    for key in ("ours_over_generic", "ours_over_raw", "generic_over_raw", "http_over_stdio"):
        cells.append("—" if ratios[key] is None else f"{ratios[key]:.2f}")
    cells += [f"{ratios['overhead_ms']:.2f}", f"{ratios['overhead_over_tenant_floor_ms']:.2f}"]
    return "| " + " | ".join(cells) + " |"


def _problems(rows: list[dict[str, Any]]) -> list[str]:
    found = [
        f"- {row['question']} / {name}: {system['problem']}"
        for row in rows
        for name, system in row["systems"].items()
        if system["problem"]
    ]
    return ["Answers that did not match:", *found, ""] if found else ["Every answer matched.", ""]


def _target_lines(targets: dict[str, Any]) -> list[str]:
    return [
        f"- every question at most 1.0x the generic server, same answer (issue 23): "
        f"{targets['every_question_at_most_generic']}",
        f"- one-year spend questions at most 0.5x the generic server, same answer: "
        f"{targets['spend_at_most_half_of_generic']} (ratios {targets['spend_ratios']})",
        f"- the year's merchant and employee groupings at most 0.5x the generic server (issue 23, large "
        f"company): {targets['groupings_at_most_half_of_generic']} ({targets['grouping_ratios']})",
        f"- get_expense over stdio at most 1.5 ms above its SQL floor: "
        f"{targets['get_expense_overhead_at_most_1_5_ms']} ({targets['get_expense_overhead_ms']} ms)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("OUTLAY_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--company", default="acme")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 15))
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also ours over stdio as the checkout DIR runs it (PYTHONPATH=DIR), e.g. main=../main",
    )
    parser.add_argument(
        "--question", action="append", default=[], help="only the questions whose names hold this text"
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("http", "in-memory", "bare sql"),
        help="leave this system out of the run",
    )
    args = parser.parse_args(argv)
    baselines = dict(_baseline(text) for text in args.baseline)
    try:
        result = asyncio.run(
            compare(
                args.database_url,
                today=args.today,
                calls=args.calls,
                company=args.company,
                baselines=baselines,
                only=tuple(args.question),
                skip=tuple(args.skip),
            )
        )
    except (LookupError, OSError, RuntimeError, MCPError, asyncpg.PostgresError) as exc:
        print(f"side_by_side: {exc}", file=sys.stderr)
        return 1
    result["code"] = _code()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    base = RESULTS / f"side_by_side-{result['database']}-{stamp}"
    base.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str))
    markdown = render(result)
    base.with_suffix(".md").write_text(markdown)
    print(markdown)
    return 0


def _baseline(text: str) -> tuple[str, str]:
    name, _, path = text.partition("=")
    if not name or not Path(path, "server").is_dir():
        raise SystemExit(f"--baseline {text!r}: expected NAME=DIR, DIR a checkout of this repository")
    return name, str(Path(path).resolve())


def _code() -> dict[str, Any]:
    """The commit measured, and the files changed in the working tree then (other work in progress)."""
    git = shutil.which("git")
    if git is None:
        return {}
    root = Path(__file__).parent.parent

    def run(*args: str) -> str:
        return subprocess.run([git, *args], cwd=root, capture_output=True, text=True, check=False).stdout

    return {"commit": run("rev-parse", "HEAD").strip(), "changed": run("status", "--short").splitlines()}


if __name__ == "__main__":
    raise SystemExit(main())
