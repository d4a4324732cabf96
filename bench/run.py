"""`make bench` / `outlay bench`: every benchmark in one run, on the demo company at two sizes in PostgreSQL.

    outlay bench [--quick] [--only SECTION,...] [--database-url URL] [--large-database-url URL]

Sections (all by default): throughput (tools over streamable HTTP at 1/8/32/64 clients), side_by_side
(raw SQL, the generic PostgreSQL MCP server, ours over stdio and HTTP), startup (cold start, import time,
idle memory), models (categorizer training and batches, forecasts), training (the categorizer's
training curve, rows x categories -> seconds and peak memory; `outlay train` on the large company),
scaling (summarize/search from the default to the large company, with their query plans), review
(review_expenses of a month and of a team's quarter, bench/review.py), import
(`outlay import --no-train` of the large company's folder into empty databases: seconds and peak RSS;
it needs no prepared database), shared_limits (what the limits, budget and cache on Redis add per call
against in process, bench/shared_limits.py; it needs Redis, `--redis-url`, and no database), jobs
(enqueue -> start of a job on an idle `outlay worker`, bench/jobs.py; its own scratch database).
`--quick` measures the default company only, with shorter runs: about four minutes instead of the
full run's eleven (plus the large company's first load).

The databases (default `outlay_bench`, `outlay_bench_big`, and `outlay_bench_categorize` for the
categorizer, which trains) are created, migrated and loaded with the demo company on first use, with
"today" pinned so reruns measure the same data. Results: var/bench/bench-<stamp>.json (everything,
machine-readable) and bench-<stamp>.md (the summary, targets first), plus, for a run of every
section, the latest copy as latest.{json,md}; var/ is ignored by git, and `--results bench/results`
updates the committed reports.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from server.db.engine import libpq_url
from server.progress import progress

# Where runs write by default: a folder git ignores, so that a try leaves the committed reports alone;
# `--results bench/results` (COMMITTED) updates those on purpose.
RESULTS = Path(__file__).resolve().parents[1] / "var" / "bench"
COMMITTED = Path(__file__).resolve().parent / "results"
TODAY = "2026-11-15"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/outlay_bench"
LARGE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/outlay_bench_big"
CATEGORIZE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/outlay_bench_categorize"
DEFAULT_SIZE, LARGE_SIZE = (250, 24), (5000, 36)
SECTIONS = (
    "throughput",
    "side_by_side",
    "startup",
    "models",
    "training",
    "scaling",
    "import",
    "review",
    "shared_limits",
    "jobs",
)
# Sections that bring their own data: `--only` them and no demo database is prepared.
SELF_CONTAINED = frozenset({"import", "shared_limits", "jobs"})
REDIS_URL = "redis://127.0.0.1:6379/0"


async def ensure_database(url: str) -> None:
    parsed = make_url(url)
    connection = await asyncpg.connect(libpq_url(url, database="postgres"))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database):
            await connection.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await connection.close()


def load_demo(url: str, employees: int, months: int) -> None:
    """Migrate, then import the demo company unless the database holds one (`--if-missing`)."""
    outlay = str(Path(sys.executable).with_name("outlay"))
    env = os.environ | {"OUTLAY_DATABASE_URL": url, "OUTLAY_TODAY": TODAY, "OUTLAY_LOG_LEVEL": "WARNING"}
    subprocess.run([outlay, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    demo = ["demo", "--if-missing", "--employees", str(employees), "--months", str(months)]
    folder = RESULTS / "demo-data" / str(make_url(url).database)
    subprocess.run([outlay, *demo, "--out", str(folder)], env=env, check=True)


def prepare(url: str, size: tuple[int, int]) -> float:
    """The database ready with the demo company of `size`; seconds it took (minutes on a first load)."""
    started = time.perf_counter()
    if make_url(url).get_backend_name() == "postgresql":
        asyncio.run(ensure_database(url))
    load_demo(url, *size)
    return round(time.perf_counter() - started, 1)


def demo_database(description: str, calls: int, argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of the single-purpose benches (bench.categorize, bench.forecast)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("OUTLAY_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--calls", type=int, default=calls)
    parser.add_argument("--employees", type=int, default=DEFAULT_SIZE[0])
    parser.add_argument("--months", type=int, default=DEFAULT_SIZE[1])
    args = parser.parse_args(argv)
    prepare(args.database_url, (args.employees, args.months))
    return args


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="outlay bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the default company only, shorter runs")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated of {', '.join(SECTIONS)}"
    )
    parser.add_argument("--database-url", default=os.environ.get("OUTLAY_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--large-database-url", default=os.environ.get("OUTLAY_BENCH_LARGE_DATABASE_URL", LARGE_URL)
    )
    parser.add_argument(
        "--categorize-database-url",
        default=os.environ.get("OUTLAY_BENCH_CATEGORIZE_DATABASE_URL", CATEGORIZE_URL),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("OUTLAY_BENCH_REDIS_URL", REDIS_URL), help="for shared_limits"
    )
    parser.add_argument(
        "--size", default="x".join(map(str, DEFAULT_SIZE)), help="the default company: EMPLOYEESxMONTHS"
    )
    parser.add_argument("--seconds", type=float, help="per throughput run (default 5, quick 2)")
    parser.add_argument("--clients", help="throughput wire clients, comma-separated (default 1,8,32,64)")
    parser.add_argument("--sdk-clients", help="throughput SDK clients, comma-separated (default 1,32)")
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="where results go (default var/bench/, which git ignores; `--results bench/results` updates the "
        "committed reports)",
    )
    args = parser.parse_args(argv)
    try:
        employees, months = (int(part) for part in args.size.split("x"))
        args.size = (employees, months)
        args.clients = tuple(int(n) for n in args.clients.split(",")) if args.clients else None
        args.sdk_clients = tuple(int(n) for n in args.sdk_clients.split(",")) if args.sdk_clients else None
    except ValueError:
        parser.error("--size is EMPLOYEESxMONTHS (e.g. 250x24) and --clients comma-separated numbers")
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(
            f"--only: unknown section {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # A log line per request and per tool call would be measured as client and in-process server time.
    logging.getLogger().setLevel(logging.WARNING)
    sections = [name for name in SECTIONS if name in args.only.split(",")]
    today = dt.date.fromisoformat(TODAY)
    report: dict[str, Any] = {
        "schema": "outlay.bench/1",
        "at": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ"),
        "quick": args.quick,
        "today": TODAY,
        "machine": _machine(),
        "commit": _commit(),
        "datasets": {},
        "sections": {},
        "errors": {},
    }
    datasets = {"default": (args.database_url, args.size)}
    if not args.quick:
        datasets["large"] = (args.large_database_url, LARGE_SIZE)
    if not set(sections) - SELF_CONTAINED:
        datasets = {}
    for name, (url, size) in datasets.items():
        _say(f"dataset {name}: {make_url(url).database} ({size[0]} employees, {size[1]} months)")
        report["datasets"][name] = {"database": make_url(url).database, "prepare_s": prepare(url, size)}
        report["datasets"][name]["expenses"] = asyncio.run(_expenses(url))
    runners = _runners(args, today, datasets)
    for name in sections:
        _say(f"section {name}")
        started = time.perf_counter()
        try:
            with progress(f"outlay bench: {name}", every=30):
                report["sections"][name] = runners[name]()
        except Exception as exc:  # one broken section must not lose the others' numbers
            report["errors"][name] = "".join(traceback.format_exception_only(exc)).strip()
            traceback.print_exc()
        report.setdefault("section_seconds", {})[name] = round(time.perf_counter() - started, 1)
    from bench.summary import render, targets

    report["targets"] = targets(report)
    _write(args.results, report, render(report), latest=set(sections) == set(SECTIONS))
    return 1 if report["errors"] else 0


def _runners(
    args: argparse.Namespace, today: dt.date, datasets: dict[str, tuple[str, tuple[int, int]]]
) -> dict[str, Callable[[], dict[str, Any]]]:
    quick = args.quick
    urls = {name: url for name, (url, _) in datasets.items()}

    def throughput() -> dict[str, Any]:
        from bench import throughput

        seconds = args.seconds or (2 if quick else 5)
        default = throughput.measure(
            urls["default"],
            today=today,
            seconds=seconds,
            clients=args.clients or throughput.CLIENTS,
            sdk_clients=args.sdk_clients or throughput.SDK_CLIENTS,
            log=args.results / "logs" / "throughput-default.log",
        )
        result = {"default": asyncio.run(default)}
        if "large" in urls:
            large = throughput.measure(
                urls["large"],
                today=today,
                seconds=seconds,
                clients=args.clients or (1, 32),
                sdk_clients=args.sdk_clients or (1,),
                tools=throughput.READ_TOOLS,
                log=args.results / "logs" / "throughput-large.log",
            )
            result["large"] = asyncio.run(large)
        return result

    def side_by_side() -> dict[str, Any]:
        from bench.side_by_side import compare

        calls = {"default": 20 if quick else 100, "large": 30}
        return {name: asyncio.run(compare(url, today=today, calls=calls[name])) for name, url in urls.items()}

    def startup() -> dict[str, Any]:
        from bench.startup import measure_startup

        return measure_startup(urls["default"], runs=5 if quick else 10)

    def models() -> dict[str, Any]:
        from bench import categorize, forecast

        prepare(args.categorize_database_url, DEFAULT_SIZE)
        result = {
            "categorize": asyncio.run(
                categorize.measure(args.categorize_database_url, calls=50 if quick else 200, today=today)
            )
        }
        for name, url in urls.items():
            result[f"forecast_{name}"] = asyncio.run(
                forecast.measure(url, 5 if quick or name == "large" else 30)
            )
        return result

    def training() -> dict[str, Any]:
        from bench import training

        result: dict[str, Any] = {"curve": training.curve(quick)}
        if "large" in urls:
            large = training.outlay_train(urls["large"], "acme")
            expenses = asyncio.run(_expenses(urls["large"]))
            result["outlay_train_large"] = {
                **large,
                "expenses": expenses,
                "learned_from": min(expenses, training.MAX_ROWS),
            }
        return result

    def import_() -> dict[str, Any]:
        from bench import importing

        size = args.size if quick else LARGE_SIZE
        folder = RESULTS / "demo-data" / f"import-{size[0]}x{size[1]}"
        return importing.measure(args.database_url, size, folder, TODAY)

    def scaling() -> dict[str, Any]:
        from bench import plans

        calls = 5 if quick else 20
        return {name: asyncio.run(plans.measure(url, today=today, calls=calls)) for name, url in urls.items()}

    def review() -> dict[str, Any]:
        from bench import review

        calls = 3 if quick else 10
        measured = {
            name: asyncio.run(review.measure(url, today=today, calls=calls)) for name, url in urls.items()
        }
        for found in measured.values():  # the findings themselves: their digest is enough in the report
            for scope in review.scopes(today, ""):
                found[scope].pop("found", None)
        return measured

    def shared_limits() -> dict[str, Any]:
        from bench.shared_limits import measure

        return asyncio.run(measure(args.redis_url, calls=500 if quick else 2000))

    def jobs() -> dict[str, Any]:
        from bench import jobs

        folder = RESULTS / "demo-data" / jobs.SCRATCH
        return jobs.measure(args.database_url, TODAY, 10 if quick else 30, folder)

    return {
        "shared_limits": shared_limits,
        "jobs": jobs,
        "throughput": throughput,
        "side_by_side": side_by_side,
        "startup": startup,
        "models": models,
        "training": training,
        "scaling": scaling,
        "import": import_,
        "review": review,
    }


async def _expenses(url: str) -> int:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM expenses"))
    finally:
        await connection.close()


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.system(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def _commit() -> str | None:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return found.stdout.strip()


def _write(results: Path, report: dict[str, Any], markdown: str, *, latest: bool) -> None:
    """The run's own files, and latest.* only for a run of every section: a `--only` run replaced the
    whole summary with one section's."""
    results.mkdir(parents=True, exist_ok=True)
    stem = results / f"bench-{report['at']}"
    text = json.dumps(report, indent=2, default=str) + "\n"
    stem.with_suffix(".json").write_text(text)
    stem.with_suffix(".md").write_text(markdown)
    if latest:
        (results / "latest.json").write_text(text)
        (results / "latest.md").write_text(markdown)
    print(markdown)
    _say(f"results: {stem}.json, {stem}.md")


def _say(message: str) -> None:
    print(f"outlay bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
