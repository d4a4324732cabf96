"""The forecast's cost: forecast_budget and forecast_budgets through an in-memory MCP client.

    python -m bench.forecast [--database-url URL] [--employees 250 --months 24] [--calls 50]

The database (default: `outlay_bench` on the local PostgreSQL, the read-tool bench's) gets the demo
company on first use, "today" pinned. For the large company: `--employees 5000 --months 36
--database-url postgresql+asyncpg://postgres@127.0.0.1/outlay_bench_big` (the first load takes minutes).
Measured, in one process:

- the first forecast call of a fresh process: statsforecast's import (pandas, statsmodels), the
  company's calibration (rolling-origin backtests) and the forecast itself;
- forecast_budgets cold (calibration dropped, as on a new day) and warm, every running budget;
- forecast_budget, one budget at a time over every running budget, warm: p50/p95;

Results go to var/bench/ (git ignores it): forecast-<date>.json and a Markdown summary next to it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import time
from typing import Any

from mcp import Client

from bench.run import RESULTS, TODAY, demo_database
from server.app import build_server
from server.settings import Settings


async def _timed(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments)
    elapsed = (time.perf_counter() - started) * 1000
    if result.is_error or result.structured_content is None:
        raise SystemExit(f"{tool} {arguments} failed: {result.content}")
    return elapsed, result.structured_content


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "calls": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def measure(url: str, calls: int) -> dict[str, Any]:
    settings = Settings(database_url=url, company="acme", today=dt.date.fromisoformat(TODAY))
    async with Client(build_server(settings, local_company="acme")) as client:
        first_ms, ranking = await _timed(client, "forecast_budgets", {"top": 500})
        budgets = ranking["budgets"]
        warm = [(await _timed(client, "forecast_budgets", {"top": 500}))[0] for _ in range(5)]
        single = []
        for index in range(calls):
            budget = budgets[index % len(budgets)]
            arguments = {"team": budget["team"], "period": budget["period"]}
            if budget["category"]:
                arguments["category"] = budget["category"]
            single.append((await _timed(client, "forecast_budget", arguments))[0])
        chart_ms, _ = await _timed(client, "forecast_budget", {"team": budgets[0]["team"], "chart": True})
    cold = []
    for _ in range(3):
        # A new server: no calibration cached (as on a new day), the libraries already imported.
        async with Client(build_server(settings, local_company="acme")) as client:
            cold.append((await _timed(client, "forecast_budgets", {"top": 500}))[0])
    return {
        "budgets_running": ranking["count"],
        "first_call_of_process_ms": round(first_ms, 1),
        "forecast_budgets_cold": _summary(cold),
        "forecast_budgets_warm": _summary(warm),
        "forecast_budget": _summary(single),
        "forecast_budget_with_first_chart_ms": round(chart_ms, 1),
    }


def _p50_p95(summary: dict[str, float]) -> tuple[float, float]:
    return summary["p50_ms"], summary["p95_ms"]


def _markdown(report: dict[str, Any]) -> str:
    m = report["measured"]
    rows = [
        ("first forecast call of a process (import + calibration)", m["first_call_of_process_ms"], ""),
        (
            "forecast_budgets, cold calibration",
            m["forecast_budgets_cold"]["p50_ms"],
            m["forecast_budgets_cold"]["p95_ms"],
        ),
        (
            "forecast_budgets, warm",
            m["forecast_budgets_warm"]["p50_ms"],
            m["forecast_budgets_warm"]["p95_ms"],
        ),
        ("forecast_budget", *_p50_p95(m["forecast_budget"])),
        ("forecast_budget + first chart", m["forecast_budget_with_first_chart_ms"], ""),
    ]
    lines = [
        f"# Forecast bench {report['at']}",
        "",
        f"{report['database']} · {m['budgets_running']} running budgets · today {TODAY}",
        f"({report['machine']})",
        "",
        "| what | p50 ms | p95 / max ms |",
        "| --- | --- | --- |",
        *(f"| {name} | {p50} | {p95} |" for name, p50, p95 in rows),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    args = demo_database(__doc__ or "", calls=50)
    measured = asyncio.run(measure(args.database_url, args.calls))
    report = {
        "at": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
        "database": args.database_url.rsplit("/", 1)[-1],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured": measured,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"forecast-{report['database']}-{report['at']}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    summary = _markdown(report)
    stem.with_suffix(".md").write_text(summary)
    print(summary)


if __name__ == "__main__":
    main()
