"""Load: N concurrent MCP clients over streamable HTTP for T seconds against a running server.

    python -m bench.load --url http://127.0.0.1:8000 --token TOKEN --database-url URL \\
        [--clients 64] [--seconds 60] [--tools get_expense,...] [--restart-pgdata DIR --restart-at 30]

Each client keeps one MCP session and calls a mix of read tools (searches, single expenses, summaries,
drawn from the data at `--database-url`; `--tools` keeps some of them) back to back. `--restart-pgdata`
restarts that PostgreSQL cluster (`pg_ctl restart -m fast`) mid-run: never point it at a cluster others
use. Reports calls, calls/s, errors by kind, p50/p95/p99 overall and per tool, and the CPU the clients
themselves used (the MCP client is CPU-heavy: with server and clients on one machine it can be what
limits), as JSON and Markdown in var/bench/ (git ignores it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import resource
import statistics
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import TextContent

from bench.read_tools import read_questions, sample_company

RESULTS = Path(__file__).resolve().parents[1] / "var" / "bench"  # as bench.run: git ignores it
UNAVAILABLE = "temporarily unavailable"
TOOLS = ("search_expenses", "get_expense", "summarize_spend")  # the mix of bench.read_tools.read_questions


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        self.samples.setdefault(kind, detail[:300])


def error_kind(exc: BaseException) -> str:
    """What went wrong, coarsely: HTTP status, transport failure, or protocol error."""
    for inner in _chain(exc):
        if isinstance(inner, httpx2.HTTPStatusError):
            return f"http_{inner.response.status_code}"
        if isinstance(inner, httpx2.TransportError):
            return f"transport_{type(inner).__name__}"
    return f"exception_{type(exc).__name__}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)


async def client_loop(
    url: str, token: str, calls: list[tuple[str, Iterator[dict[str, Any]]]], deadline: float, tally: Tally
) -> None:
    """One client: a session, calls back to back; after a transport failure, a new session."""
    turn = 0
    while time.monotonic() < deadline:
        try:
            async with (
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
                Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
            ):
                while time.monotonic() < deadline:
                    tool, arguments = calls[turn % len(calls)]
                    turn += 1
                    started = time.perf_counter()
                    result = await client.call_tool(tool, next(arguments))
                    if not result.is_error:
                        tally.latencies[tool].append((time.perf_counter() - started) * 1000)
                        continue
                    text = result.content[0].text if isinstance(result.content[0], TextContent) else ""
                    tally.error(
                        "tool_unavailable" if UNAVAILABLE in text else "tool_error", f"{tool}: {text}"
                    )
        except Exception as exc:
            tally.error(error_kind(exc), f"{type(exc).__name__}: {exc}")
            await anyio.sleep(0.2)


def restart_postgres(data_dir: str) -> float:
    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    command = [pg_ctl, "-D", data_dir, "restart", "-m", "fast", "-w"]
    if os.geteuid() == 0:  # pg_ctl refuses root
        command = ["runuser", "-u", "postgres", "--", *command]
    started = time.perf_counter()
    # No pipes: the restarted postmaster would inherit them and keep `run` waiting for their end.
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict[str, Any]:
    teams, refs = await sample_company(args.database_url)
    tally = Tally()
    restart: dict[str, Any] = {}
    cpu_before = _cpu_seconds()
    started = time.monotonic()
    deadline = started + args.seconds
    async with anyio.create_task_group() as tasks:
        for index in range(args.clients):
            # Each client its own copy of the argument cycles, starting at a different tool.
            mine = read_questions(teams, refs, dt.date.fromisoformat(args.today))
            calls = [
                (tool, arguments) for tool, arguments in mine.items() if tool in args.tools or not args.tools
            ]
            calls = calls[index % len(calls) :] + calls[: index % len(calls)]
            tasks.start_soon(client_loop, args.url, args.token, calls, deadline, tally)
        if args.restart_pgdata:
            await anyio.sleep(args.restart_at)
            restart["at_s"] = round(time.monotonic() - started, 1)
            restart["took_s"] = round(
                await anyio.to_thread.run_sync(restart_postgres, args.restart_pgdata), 2
            )
    elapsed = time.monotonic() - started
    return report(args, tally, elapsed, restart) | {"client_cpu_s": round(_cpu_seconds() - cpu_before, 1)}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _quantiles(timings: list[float]) -> dict[str, float]:
    if len(timings) < 2:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    cuts = statistics.quantiles(timings, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "p99_ms": round(cuts[98], 1)}


def report(args: argparse.Namespace, tally: Tally, elapsed: float, restart: dict[str, Any]) -> dict[str, Any]:
    everything = [ms for timings in tally.latencies.values() for ms in timings]
    ok = len(everything)
    errors = sum(tally.errors.values())
    return {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "calls": ok + errors,
        "ok": ok,
        "calls_per_s": round((ok + errors) / elapsed, 1),
        "errors": dict(tally.errors),
        "error_samples": tally.samples,
        **_quantiles(everything),
        "tools": {tool: {"calls": len(t), **_quantiles(t)} for tool, t in sorted(tally.latencies.items())},
        "restart": restart,
        "cpus": os.cpu_count(),
    }


def render(result: dict[str, Any]) -> str:
    restart = result["restart"]
    lines = [
        f"# Load: {result['clients']} clients x {result['seconds']} s"
        + (f", PostgreSQL restarted at {restart['at_s']} s ({restart['took_s']} s)" if restart else ""),
        "",
        f"{result['calls']} calls, {result['calls_per_s']} calls/s, errors: {result['errors'] or 'none'}; "
        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms "
        f"({result['cpus']} CPUs, server and clients on the same machine; the clients used "
        f"{result.get('client_cpu_s', '?')} CPU s)",
        "",
        "| tool | ok calls | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for tool, row in result["tools"].items():
        lines.append(f"| {tool} | {row['calls']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="server base URL (without /mcp)")
    parser.add_argument("--token", required=True)
    parser.add_argument("--database-url", required=True, help="the server's database, to draw arguments from")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--tools",
        type=lambda text: [tool for tool in text.split(",") if tool],
        default=[],
        help=f"comma-separated tools to call (default: all of {', '.join(TOOLS)})",
    )
    parser.add_argument("--today", default="2026-11-15", help="the server's pinned today (OUTLAY_TODAY)")
    parser.add_argument("--restart-pgdata", help="data directory of a PostgreSQL to restart mid-run")
    parser.add_argument("--restart-at", type=float, default=30, help="seconds into the run")
    parser.add_argument("--label", default="", help="added to the results file name")
    args = parser.parse_args()
    if unknown := sorted(set(args.tools) - set(TOOLS)):
        parser.error(f"--tools: no {', '.join(unknown)} in the mix; choose from {', '.join(TOOLS)}")
    result = anyio.run(run, args)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"load{'-' + args.label if args.label else ''}-{stamp}"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
    markdown = render(result)
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
