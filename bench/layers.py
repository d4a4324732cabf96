"""Where our server's CPU per call goes, by layer, beside a bare `mcp` server's CPU for the same
statements (bench/bare_server.py), both spawned over stdio and called in turn in the same run:

    python -m bench.layers [--database-url URL] [--calls 200] [--question TEXT ...]

Ours runs under bench/layer_probe.py, which clocks the CPU of each layer's entry points (the main
thread's CPU time, charged to the innermost layer running); the MCP SDK and its transport are the rest
of the process's CPU (from /proc). The probe costs CPU itself (a few microseconds a wrapped call), so
the total here is a little above an unprobed server's; side_by_side gives the unprobed numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bench.questions import Question, questions, read_dataset
from bench.server_process import TOKEN, children, cpu_seconds_of, server_env
from bench.side_by_side import DEFAULT_URL, ROOT, _bare_call, _bare_client
from server.db.engine import libpq_url

SDK = "MCP SDK/transport"
LAYERS = (
    SDK,
    "argument validation",
    "tenancy (role + RLS setup)",
    "audit",
    "ORM/SQLAlchemy + asyncpg",
    "our logic",
    "output serialization",
    "logging/metrics",
)


@asynccontextmanager
async def _probed(env: dict[str, str], probe: Path, log: Path) -> AsyncIterator[tuple[Client, int]]:
    """Our stdio server under the layer probe, and its pid."""
    env = env | {"OUTLAY_LAYER_PROBE": str(probe), "PYTHONPATH": str(ROOT)}
    args = ["-m", "bench.layer_probe", "serve", "--transport", "stdio"]
    params = StdioServerParameters(command=sys.executable, args=args, env=env)
    before = children()
    with log.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            [pid] = children() - before
            yield client, pid


async def _snapshot(pid: int, probe: Path) -> tuple[float, dict[str, float]]:
    """The server's CPU seconds so far, and its layers'."""
    layers = await asyncio.to_thread(_probe_now, pid, probe)
    return cpu_seconds_of(pid), layers


def _probe_now(pid: int, probe: Path) -> dict[str, float]:
    written = probe.stat().st_mtime_ns if probe.exists() else 0
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while not probe.exists() or probe.stat().st_mtime_ns == written:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the probed server wrote no {probe} (see its log)")
        time.sleep(0.01)
    layers: dict[str, float] = json.loads(probe.read_text())["layers"]
    return layers


async def measure(database_url: str, asked: list[Question], calls: int) -> list[dict[str, Any]]:
    env = server_env(
        database_url, "2026-11-15", OUTLAY_COMPANY="acme", OUTLAY_API_KEYS=json.dumps({TOKEN: "acme"})
    )
    rows = []
    async with AsyncExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="layers-")))
        probe = scratch / "layers.json"
        ours, pid = await stack.enter_async_context(_probed(env, probe, scratch / "stdio.log"))
        before = children()
        bare_client = await stack.enter_async_context(_bare_client(database_url, asked, scratch))
        [bare_pid] = children() - before
        bare = _bare_call(bare_client, asked)
        for question in asked:
            for _ in range(5):
                await ours.call_tool(question.tool, question.arguments)
                await bare(question)
            cpu, layers = await _snapshot(pid, probe)
            bare_cpu = cpu_seconds_of(bare_pid)
            for _ in range(calls):
                await ours.call_tool(question.tool, question.arguments)
                await bare(question)
            cpu_after, layers_after = await _snapshot(pid, probe)
            rows.append(_row(question, calls, cpu_after - cpu, layers, layers_after))
            rows[-1]["bare_cpu_ms_per_call"] = round((cpu_seconds_of(bare_pid) - bare_cpu) * 1000 / calls, 2)
    return rows


def _row(
    question: Question, calls: int, cpu: float, before: dict[str, float], after: dict[str, float]
) -> dict[str, Any]:
    spent = {layer: (after.get(layer, 0.0) - before.get(layer, 0.0)) * 1000 / calls for layer in LAYERS[1:]}
    total = cpu * 1000 / calls
    spent = {SDK: max(total - sum(spent.values()), 0.0)} | spent
    return {
        "question": question.name,
        "calls": calls,
        "cpu_ms_per_call": round(total, 2),
        "layers_ms": {layer: round(ms, 3) for layer, ms in spent.items()},
    }


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "Our stdio server's CPU per call by layer (bench/layer_probe.py), ms and share, beside a bare `mcp` "
        "server's CPU per call for the same statements (called in turn with ours):",
        "",
        "| question | bare ms | ours ms | ours/bare | " + " | ".join(LAYERS) + " |",
        "| --- " * (len(LAYERS) + 4) + "|",
    ]
    for row in rows:
        total, bare = row["cpu_ms_per_call"], row["bare_cpu_ms_per_call"]
        cells = [row["question"], f"{bare:.2f}", f"{total:.2f}", f"{total / bare:.2f}" if bare else "—"]
        for layer in LAYERS:
            ms = row["layers_ms"][layer]
            cells.append(f"{ms:.2f} ({ms / total:.0%})" if total else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


async def asked(database_url: str, only: list[str]) -> list[Question]:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        dataset = await read_dataset(connection, "acme", dt.date(2026, 11, 15))
    finally:
        await connection.close()
    return [q for q in questions(dataset) if not only or any(part in q.name for part in only)]


async def _run(args: argparse.Namespace) -> list[dict[str, Any]]:
    return await measure(args.database_url, await asked(args.database_url, args.question), args.calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("OUTLAY_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--question", action="append", default=[], help="only the questions holding this text"
    )
    args = parser.parse_args(argv)
    print(render(asyncio.run(_run(args))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
