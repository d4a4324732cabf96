"""Side by side on the same data, machine and run: the raw SQL floor (asyncpg), the generic PostgreSQL MCP
server (npm `@modelcontextprotocol/server-postgres`, its `query` tool) and ours over stdio, streamable
HTTP and in memory. Every system answers every question; the calls are interleaved round by round
(A B C D, A B C D, ...) so that machine noise hits all alike, and every answer is compared with the
raw SQL's.

    python -m bench.side_by_side [--database-url URL] [--calls 50] [--company acme] [--today 2026-11-15]

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
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from sqlalchemy.engine import make_url

from bench.questions import Normalized, Question, Rows, questions, read_dataset
from bench.server_process import OUTLAY, TOKEN, http_server, server_env
from server.app import build_server
from server.context import AppContext
from server.db.engine import libpq_url
from server.settings import Settings

RESULTS = Path(__file__).resolve().parents[1] / "var" / "bench"  # as bench.run: git ignores it
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


@dataclass
class Tally:
    timings: list[float]
    mismatches: int = 0
    errors: int = 0
    first_problem: str | None = None

    def record(self, ms: float, problem: str | None, *, error: bool) -> None:
        self.timings.append(ms)
        if problem is not None:
            self.errors += error
            self.mismatches += not error
            self.first_problem = self.first_problem or problem


async def compare(database_url: str, *, today: dt.date, calls: int, company: str = "acme") -> dict[str, Any]:
    """Every question through every system, `calls` timed rounds each after one warm-up round."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        dataset = await read_dataset(connection, company, today)
        expenses = await connection.fetchval(
            "SELECT count(*) FROM expenses WHERE company_id = $1", dataset.company_id
        )
        async with _systems(connection, database_url, today, company, dataset.company_id) as opened:
            systems, generic = opened
            rows = [await measure_question(question, systems, calls) for question in questions(dataset)]
    finally:
        await connection.close()
    return {
        "database": make_url(database_url).database,
        "company": company,
        "expenses": int(expenses),
        "today": today.isoformat(),
        "calls": calls,
        "generic": generic,
        "questions": rows,
        "targets": _targets(rows),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "system": platform.system()},
    }


# ---- the systems -----------------------------------------------------------------------------------


@asynccontextmanager
async def _systems(
    connection: asyncpg.Connection, database_url: str, today: dt.date, slug: str, company_id: int
) -> AsyncIterator[tuple[list[System], dict[str, str]]]:
    """Every system, ready and connected: the raw SQL, the generic server when node/npm are here, and ours
    over stdio, HTTP (both spawned as deployed) and in memory. Also: what became of the generic server."""
    async with AsyncExitStack() as stack:
        stack.enter_context(_restore_logging())
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="side_by_side-")))
        systems = _raw(connection, company_id)
        generic = _generic_ready()
        if generic["status"] == "ran":
            client = await stack.enter_async_context(_generic_client(database_url, logs))
            systems.append(System("generic", _generic_call(client), _generic_answer))
        keys = json.dumps({TOKEN: slug})
        env = server_env(database_url, today.isoformat(), OUTLAY_COMPANY=slug, OUTLAY_API_KEYS=keys)
        stdio = StdioServerParameters(command=OUTLAY, args=["serve", "--transport", "stdio"], env=env)
        errlog = stack.enter_context((logs / "stdio.log").open("w"))
        clients = {
            "stdio": await stack.enter_async_context(Client(stdio_client(stdio, errlog=errlog))),
            "http": await stack.enter_async_context(_http_client(env, logs / "http.log")),
            "in-memory": await stack.enter_async_context(Client(_in_memory(database_url, today, slug))),
        }
        systems += [System(name, _tool_call(client), _tool_answer) for name, client in clients.items()]
        yield systems, generic


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
async def _http_client(env: dict[str, str], log: Path) -> AsyncIterator[Client]:
    """`outlay serve --transport http` on a free port, as deployed, and a client with the bench key."""
    with http_server(env, log=log) as server:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as client,
        ):
            yield client


# ---- measuring -------------------------------------------------------------------------------------


async def measure_question(question: Question, systems: list[System], calls: int) -> dict[str, Any]:
    expected = question.from_rows([dict(r) for r in await _warm(question, systems)])
    tallies = {system.name: Tally([]) for system in systems}
    for _ in range(calls):
        for system in systems:
            ms, problem, error = await _once(system, question, expected)
            tallies[system.name].record(ms, problem, error=error)
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


def _short(value: Normalized) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


def _summary(tally: Tally, system: System) -> dict[str, Any]:
    timings = tally.timings
    p95 = statistics.quantiles(timings, n=100, method="inclusive")[94] if len(timings) > 1 else timings[0]
    return {
        "p50_ms": round(statistics.median(timings), 3),
        "p95_ms": round(p95, 3),
        "matched": None if system.answer is None else tally.mismatches == 0 and tally.errors == 0,
        "mismatches": tally.mismatches,
        "errors": tally.errors,
        "problem": tally.first_problem,
    }


def _ratio(results: dict[str, Any], top: str, bottom: str) -> float | None:
    if top not in results or bottom not in results or not results[bottom]["p50_ms"]:
        return None
    return round(float(results[top]["p50_ms"]) / float(results[bottom]["p50_ms"]), 2)


def _ratios(results: dict[str, Any]) -> dict[str, float | None]:
    stdio = results["stdio"]["p50_ms"]
    return {
        "ours_over_generic": _ratio(results, "stdio", "generic"),
        "ours_over_raw": _ratio(results, "stdio", "raw"),
        "ours_over_floor": _ratio(results, "stdio", "floor"),
        "generic_over_raw": _ratio(results, "generic", "raw"),
        "http_over_stdio": _ratio(results, "http", "stdio"),
        "overhead_ms": round(stdio - results["floor"]["p50_ms"], 3),
        "overhead_over_tenant_floor_ms": round(stdio - results["tenant floor"]["p50_ms"], 3),
    }


def _targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 10: a one-year spend aggregate in <= 0.5x the generic server's time with the same answer (the
    issue's reference question; the other spend questions are reported beside it); get_expense over stdio
    <= 1.5 ms p50 above its SQL floor."""
    spend = [row for row in rows if row["tool"] == "summarize_spend" and len(row["arguments"]["period"]) == 4]
    lookup = next(row for row in rows if row["tool"] == "get_expense")
    ratios = [row["ratios"]["ours_over_generic"] for row in spend]
    others = [row for row in rows if row["tool"] == "summarize_spend" and row not in spend]
    return {
        "other_spend_ratios": {row["question"]: row["ratios"]["ours_over_generic"] for row in others},
        "spend_at_most_half_of_generic": None
        if None in ratios
        else all(r is not None and r <= 0.5 for r in ratios)
        and all(row["systems"]["stdio"]["matched"] and row["systems"]["generic"]["matched"] for row in spend),
        "spend_ratios": ratios,
        "get_expense_overhead_ms": lookup["ratios"]["overhead_ms"],
        "get_expense_overhead_at_most_1_5_ms": lookup["ratios"]["overhead_ms"] <= 1.5,
    }


# ---- report ----------------------------------------------------------------------------------------

COLUMNS = ("raw", "floor", "tenant floor", "generic", "stdio", "http", "in-memory")


def render(result: dict[str, Any]) -> str:
    generic = result["generic"]
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
        "| question | " + " | ".join(COLUMNS) + " | ours/generic | ours/raw | generic/raw | http/stdio "
        "| overhead ms | over tenant floor ms |",
        "| --- " * (len(COLUMNS) + 7) + "|",
    ]
    lines += [_row(row) for row in result["questions"]]
    lines += ["", *_problems(result["questions"]), *_target_lines(result["targets"])]
    return "\n".join(lines) + "\n"


def _row(row: dict[str, Any]) -> str:
    cells = [row["question"]]
    for name in COLUMNS:
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
        f"- one-year spend questions at most 0.5x the generic server, same answer: "
        f"{targets['spend_at_most_half_of_generic']} (ratios {targets['spend_ratios']})",
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
    args = parser.parse_args(argv)
    try:
        result = asyncio.run(
            compare(args.database_url, today=args.today, calls=args.calls, company=args.company)
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
