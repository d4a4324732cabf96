"""`make bench`: read-tool latency on the demo company in PostgreSQL, in memory and over real HTTP.

    python -m bench.run [--database-url URL] [--calls 100] [--employees 250 --months 24]

The database (default: `outlay_bench` on the local server) is created, migrated and loaded with the
demo company on first use, with "today" pinned so reruns measure the same data. Results go to
bench/results/read_tools-<date>.json and a Markdown summary next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.read_tools import measure

RESULTS = Path(__file__).parent / "results"
TODAY = "2026-11-15"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/outlay_bench"


async def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database):
            await connection.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await connection.close()


def load_demo(url: str, employees: int, months: int) -> None:
    outlay = str(Path(sys.executable).with_name("outlay"))
    env = os.environ | {"OUTLAY_DATABASE_URL": url, "OUTLAY_TODAY": TODAY}
    subprocess.run([outlay, "db", "upgrade"], env=env, check=True)
    demo = ["demo", "--if-missing", "--employees", str(employees), "--months", str(months)]
    subprocess.run([outlay, *demo, "--out", str(RESULTS / "demo-data")], env=env, check=True)


def demo_database(description: str, calls: int, argv: list[str] | None = None) -> argparse.Namespace:
    """The command line every demo-company bench shares; the database is made ready before it returns."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("OUTLAY_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--calls", type=int, default=calls)
    parser.add_argument("--employees", type=int, default=250)
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args(argv)
    if make_url(args.database_url).get_backend_name() == "postgresql":
        asyncio.run(ensure_database(args.database_url))
    load_demo(args.database_url, args.employees, args.months)
    return args


def main(argv: list[str] | None = None) -> int:
    args = demo_database(__doc__ or "", calls=100, argv=argv)
    report = asyncio.run(measure(args.database_url, calls=args.calls, today=dt.date.fromisoformat(TODAY)))
    report["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "system": platform.system(),
    }
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"read_tools-{stamp}.json").write_text(json.dumps(report, indent=2))
    markdown = render(report)
    (RESULTS / f"read_tools-{stamp}.md").write_text(markdown)
    print(markdown)
    return 0


def render(report: dict[str, object]) -> str:
    lines = [
        f"# Read-tool latency ({report['calls']} calls per tool, {report['expenses']} expenses)",
        "",
        "| transport | tool | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows = report["results"]
    assert isinstance(rows, list)
    for row in rows:
        lines.append(
            f"| {row['transport']} | {row['tool']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} "
            f"| {row['max_ms']} | {row['errors']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
