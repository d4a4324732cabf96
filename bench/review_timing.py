"""review_expenses' speed on a large company (issue 22's targets: a month of the whole company in 2 s,
a team's quarter in 0.2 s): best of three warm calls through the in-memory client, every page read, and
the findings (kind, expense refs) so that two backends' can be compared.

    .venv/bin/python -m bench.review_timing URL [URL ...]   (OUTLAY_TODAY=2026-11-15 for the demo)

Kept apart from a `review` bench section so that one can call `measure` without owning this file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import time
from typing import Any

from mcp import Client

from server.app import build_server
from server.settings import Settings

SCOPES: dict[str, dict[str, Any]] = {
    "month": {"period": "2026-10"},
    "team_quarter": {"period": "2026-Q3", "team": "Recruiting"},
}
CALLS = 3


async def _review(client: Client, arguments: dict[str, Any]) -> tuple[float, float, list[tuple[str, ...]]]:
    """Wall and this process's CPU seconds for the first page (CPU: what a loaded machine's wall time
    hides; SQLite's work is in it, PostgreSQL's is not), and every page's findings as (kind, refs...)."""
    found: list[tuple[str, ...]] = []
    started, cpu = time.perf_counter(), time.process_time()
    result = await client.call_tool("review_expenses", arguments | {"limit": 100})
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    while True:
        output = result.structured_content or {}
        found += [(f["kind"], *(e["id"] for e in f["expenses"])) for f in output.get("findings", [])]
        if not output.get("next_cursor"):
            return seconds, cpu, found
        result = await client.call_tool(
            "review_expenses", arguments | {"limit": 100, "cursor": output["next_cursor"]}
        )


async def measure(url: str, today: dt.date, company: str = "acme") -> dict[str, Any]:
    settings = Settings(database_url=url, company=company, today=today)
    results: dict[str, Any] = {}
    async with Client(build_server(settings, local_company=company)) as client:
        for name, arguments in SCOPES.items():
            _, _, found = await _review(client, arguments)  # warm: caches, pages, the planner
            times = [await _review(client, arguments) for _ in range(CALLS)]
            results[name] = {
                "best_s": round(min(t[0] for t in times), 3),
                "times_s": [round(t[0], 3) for t in times],
                "best_cpu_s": round(min(t[1] for t in times), 3),
                "findings": len(found),
                "found": found,
            }
    return results


def main() -> None:
    today = dt.date.fromisoformat(os.environ.get("OUTLAY_TODAY", "2026-11-15"))
    runs = {url: asyncio.run(measure(url, today)) for url in sys.argv[1:]}
    for url, results in runs.items():
        for name, result in results.items():
            print(
                f"{url.split(':')[0]:22} {name:13} best {result['best_s']:6.3f} s "
                f"(cpu {result['best_cpu_s']:6.3f} s)  {result['times_s']}  {result['findings']} findings"
            )
    if len(runs) > 1:
        first, *others = runs.values()
        same = all(o[n]["found"] == first[n]["found"] for o in others for n in SCOPES)
        print("findings identical on every backend:", same)
    if out := os.environ.get("REVIEW_TIMING_OUT"):
        with open(out, "w") as file:
            json.dump(runs, file, indent=1, default=str)


if __name__ == "__main__":
    main()
