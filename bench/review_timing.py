"""bench/review.py's measurement on any databases, side by side, and whether their findings are the same
(issue 22: identical on SQLite and PostgreSQL):

    OUTLAY_TODAY=2026-11-15 .venv/bin/python -m bench.review_timing URL [URL ...]

REVIEW_TIMING_CALLS timed calls per scope (default 3); REVIEW_TIMING_OUT=FILE writes everything as JSON.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys

from bench.review import measure


def main() -> None:
    today = dt.date.fromisoformat(os.environ.get("OUTLAY_TODAY", "2026-11-15"))
    calls = int(os.environ.get("REVIEW_TIMING_CALLS", "3"))
    runs = {url: asyncio.run(measure(url, today=today, calls=calls)) for url in sys.argv[1:]}
    for url, run in runs.items():
        for name in ("month", "team_quarter"):
            found = run[name]
            print(
                f"{url.split(':')[0]:22} {name:13} p50 {found['p50_ms']:8.1f} ms (max {found['max_ms']:.1f}, "
                f"cpu {found['cpu_p50_ms']:.1f}); {found['expenses_reviewed']:,} expenses, "
                f"{found['findings']} findings in {found['pages']} pages, later pages "
                f"{found['later_pages_ms']} ms; {found['arguments']}"
            )
    if len(runs) > 1:
        first, *others = runs.values()
        same = all(o[n]["found"] == first[n]["found"] for o in others for n in ("month", "team_quarter"))
        print("findings identical on every backend:", same)
    if out := os.environ.get("REVIEW_TIMING_OUT"):
        with open(out, "w") as file:
            json.dump(runs, file, indent=1, default=str)


if __name__ == "__main__":
    main()
