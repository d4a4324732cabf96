"""The resident set of `outlay serve --transport stdio` (VmRSS of its process, from /proc) as an agent's
session goes on: idle after the first `tools/list`, after reads, after a 1,000-expense categorization
(dry run), after forecasts. Each `--baseline NAME=DIR` spawns the same server from another checkout
(PYTHONPATH=DIR) and takes it through the same steps, in turn with ours.

    python -m bench.memory [--database-url URL] [--baseline NAME=DIR ...]

Issue 23's targets: at most 200 MB idle, after reads and after the categorization; 250 MB after
forecasts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import Client

from bench.server_process import TOKEN, children, server_env
from bench.side_by_side import DEFAULT_URL, _baseline, _stdio_client

TODAY = "2026-11-15"
STEPS = ("idle", "after reads", "after categorizing 1,000", "after forecasts")
TARGETS_MB = {"idle": 200, "after reads": 200, "after categorizing 1,000": 200, "after forecasts": 250}
READS: list[tuple[str, dict[str, Any]]] = [
    ("summarize_spend", {"group_by": "category", "period": "2025"}),
    ("summarize_spend", {"group_by": "merchant", "period": "2025", "top": 20}),
    ("search_expenses", {"merchant": "uber", "date_from": "2026-08-18", "date_to": TODAY, "limit": 50}),
    ("search_expenses", {"limit": 50}),
]
CATEGORIZE = {"limit": 1000, "apply": True, "dry_run": True}
FORECASTS: list[tuple[str, dict[str, Any]]] = [("forecast_budgets", {"top": 500})]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


@asynccontextmanager
async def _server(env: dict[str, str], log: Path) -> AsyncIterator[tuple[Client, int]]:
    before = children()
    async with _stdio_client(env, log) as client:
        [pid] = children() - before
        yield client, pid


async def _call(client: Client, tool: str, arguments: dict[str, Any]) -> None:
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = "".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{tool}: {text[:300]}")


async def _step(client: Client, step: str) -> None:
    if step == "after reads":
        for _ in range(5):
            for tool, arguments in READS:
                await _call(client, tool, arguments)
    elif step == "after categorizing 1,000":
        await _call(client, "categorize_expenses", CATEGORIZE)
    elif step == "after forecasts":
        for tool, arguments in FORECASTS:
            await _call(client, tool, arguments)


async def measure(database_url: str, baselines: dict[str, str]) -> dict[str, Any]:
    """RSS MB per server and step; the servers take each step in turn."""
    keys = json.dumps({TOKEN: "acme"})
    env = server_env(database_url, TODAY, OUTLAY_COMPANY="acme", OUTLAY_API_KEYS=keys)
    envs = {"ours": env} | {name: env | {"PYTHONPATH": path} for name, path in baselines.items()}
    rss: dict[str, dict[str, float]] = {name: {} for name in envs}
    async with AsyncExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="memory-")))
        servers = {
            name: await stack.enter_async_context(_server(server_env_, logs / f"{name}.log"))
            for name, server_env_ in envs.items()
        }
        for step in STEPS:
            for name, (client, pid) in servers.items():
                if step == "idle":
                    await client.list_tools()
                await _step(client, step)
                rss[name][step] = rss_mb(pid)
    return {"database": database_url.rsplit("/", 1)[-1], "baselines": baselines, "rss_mb": rss}


def render(result: dict[str, Any]) -> str:
    lines = [
        f"Resident set (VmRSS MB) of `outlay serve --transport stdio`, {result['database']}:",
        "",
        "| server | " + " | ".join(f"{step} (≤ {TARGETS_MB[step]})" for step in STEPS) + " |",
        "| --- " * (len(STEPS) + 1) + "|",
    ]
    for name, steps in result["rss_mb"].items():
        lines.append(f"| {name} | " + " | ".join(f"{steps[step]:.1f}" for step in STEPS) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("OUTLAY_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--baseline", action="append", default=[], metavar="NAME=DIR")
    args = parser.parse_args(argv)
    try:
        result = asyncio.run(measure(args.database_url, dict(_baseline(text) for text in args.baseline)))
    except RuntimeError as exc:
        print(f"memory: {exc}", file=sys.stderr)
        return 1
    print(render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
