"""The categorizer's cost on the default demo company: training, one call, a batch.

    python -m bench.categorize [--database-url URL] [--calls 300]

The database (default: `outlay_bench_categorize` on the local PostgreSQL) gets the demo company on
first use (its import trains the first model). Measured, LLM off:

- `outlay train` work: reading the history, fitting the three models, storing the version;
- categorize_expense through an in-memory MCP client (protocol, database, pipeline), by id and raw;
- categorize_expenses over the 1,000 newest backlog expenses (dry run): the service with its database
  queries, and through the client (which also validates the 1,000 items against the output schema);
- the pipeline alone in process, one expense and the whole backlog, on one core.

Results go to var/bench/ (git ignores it): categorize-<date>.json and a Markdown summary next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import time
from typing import Any

from mcp import Client
from sqlalchemy import select

from bench.run import DEFAULT_SIZE, RESULTS, TODAY, prepare
from server.app import build_server
from server.calls import resolve_caller
from server.db.models import Expense
from server.runtime import Runtime
from server.settings import Settings
from tools.categorize import facts, pipeline, service, training
from tools.categorize.books import open_books
from tools.categorize.commands import company_named
from tools.categorize.logic import Selection

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/outlay_bench_categorize"


async def measure(url: str, *, calls: int, today: dt.date) -> dict[str, Any]:
    settings = Settings(database_url=url, today=today, company="acme")
    report: dict[str, Any] = {"calls": calls, "today": today.isoformat()}
    async with Runtime(settings, local_company="acme").open() as app:
        report["train"] = await _train(app)
        report["pipeline"] = await _pipeline(app)
        report["service_batch"] = await _service_batch(app)
        refs = await _backlog(app)
    async with Client(build_server(settings, local_company="acme")) as client:
        report["tools"] = [
            await _timed(client, "categorize_expense", [{"expense_id": ref} for ref in refs], calls),
            await _timed(client, "categorize_expense", _raw_details(), calls),
            await _batch(client),
        ]
    return report


async def _train(app: Any) -> dict[str, Any]:
    async with app.sessions() as session, session.begin():
        company = await company_named(session, "acme")
        started = time.perf_counter()
        row = await training.train_company(session, company, serve=True, actor="bench")
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "rows": row.rows, "version": row.version, "metrics": row.metrics}


async def _pipeline(app: Any) -> dict[str, Any]:
    """The stages alone: what a call costs once the database has answered."""
    async with app.sessions() as session:
        caller = await resolve_caller(app, session)
        books = await open_books(app, session, caller)
        ids = list(await session.scalars(select(Expense.id).where(Expense.category_id.is_(None))))
        rows = await facts.by_ids(session, caller.company_id, ids)
    items = [facts.facts_of(row, caller.currency, books.parents) for row in rows]
    singles = []
    for item in items[:300]:
        started = time.perf_counter()
        pipeline.decide(books.company, books.artifact, [item])
        singles.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    pipeline.decide(books.company, books.artifact, items)
    seconds = time.perf_counter() - started
    return {
        "single_p50_ms": round(statistics.median(singles), 3),
        "batch_rows": len(items),
        "batch_per_second": round(len(items) / seconds),
    }


async def _service_batch(app: Any) -> dict[str, Any]:
    """categorize_expenses without the protocol: select the page, run the stages, shape the answer."""
    selection = Selection(limit=1000)
    timings = []
    for _ in range(4):
        async with app.sessions() as session, session.begin():
            caller = await resolve_caller(app, session)
            started = time.perf_counter()
            batch = await service.select_batch(session, caller, b"bench", selection)
            output = await service.categorize_batch(app, session, caller, batch, apply=True, dry_run=True)
            timings.append(time.perf_counter() - started)
    seconds = statistics.median(timings[1:])  # the first warms the artifact cache
    return {
        "rows": len(output.items),
        "seconds": round(seconds, 3),
        "per_second": round(len(output.items) / seconds),
    }


async def _backlog(app: Any) -> list[str]:
    async with app.sessions() as session:
        query = select(Expense.ref).where(Expense.category_id.is_(None)).order_by(Expense.id).limit(500)
        return list(await session.scalars(query))


def _raw_details() -> list[dict[str, Any]]:
    return [
        {"descriptor": "UBER *TRIP HELP.UBER.COM", "amount": "23.40", "mcc": "4121"},
        {"descriptor": "LUFTHANSA 2209876543", "amount": "412.50", "currency": "USD", "mcc": "3008"},
        {"descriptor": "AMZN MKTP DE*2K4L83", "amount": "89.90", "memo": "USB-C dock", "mcc": "5942"},
        {"descriptor": "SQ *NEW CAFE BERLIN", "amount": "7.20", "mcc": "5814"},
    ]


async def _timed(client: Client, tool: str, arguments: list[dict[str, Any]], calls: int) -> dict[str, Any]:
    await client.call_tool(tool, arguments[0])  # warm-up: pool, statement cache, model artifact
    timings = []
    for n in range(calls):
        started = time.perf_counter()
        result = await client.call_tool(tool, arguments[n % len(arguments)])
        timings.append((time.perf_counter() - started) * 1000)
        assert not result.is_error, result.content
    kind = "by id" if "expense_id" in arguments[0] else "raw details"
    return {
        "tool": f"{tool} ({kind})",
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(statistics.quantiles(timings, n=20)[-1], 2),
    }


async def _batch(client: Client) -> dict[str, Any]:
    arguments = {"limit": 1000, "apply": True, "dry_run": True}
    await client.call_tool("categorize_expenses", arguments)
    started = time.perf_counter()
    result = await client.call_tool("categorize_expenses", arguments)
    seconds = time.perf_counter() - started
    assert result.structured_content is not None
    items = len(result.structured_content["items"])
    return {
        "tool": "categorize_expenses (1,000 backlog, dry run)",
        "seconds": round(seconds, 3),
        "per_second": round(items / seconds),
    }


def render(report: dict[str, Any]) -> str:
    train, stages = report["train"], report["pipeline"]
    holdout = train["metrics"].get("holdout", {})
    lines = [
        "# Categorizer cost on the demo company (LLM off)",
        "",
        f"- training (read history, fit, store v{train['version']}): **{train['seconds']} s** for "
        f"{train['rows']:,} expenses; holdout accuracy {holdout.get('accuracy', 0):.1%}",
        f"- pipeline in process: one expense p50 **{stages['single_p50_ms']} ms**; "
        f"{stages['batch_rows']:,} backlog expenses at **{stages['batch_per_second']:,}/s** on one core",
        f"- categorize_expenses service (select 1,000 backlog expenses, categorize, shape; dry run): "
        f"**{report['service_batch']['per_second']:,} expenses/s** ({report['service_batch']['seconds']} s)",
        "",
        "| through an in-memory MCP client | p50 ms | p95 ms | throughput |",
        "| --- | --- | --- | --- |",
    ]
    for row in report["tools"]:
        if "per_second" in row:
            lines.append(f"| {row['tool']} | | | {row['per_second']:,} expenses/s ({row['seconds']} s) |")
        else:
            lines.append(f"| {row['tool']} | {row['p50_ms']} | {row['p95_ms']} | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("OUTLAY_BENCH_CATEGORIZE_URL", DEFAULT_URL))
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    prepare(args.database_url, DEFAULT_SIZE)
    report = asyncio.run(measure(args.database_url, calls=args.calls, today=dt.date.fromisoformat(TODAY)))
    report["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"categorize-{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    markdown = render(report)
    (RESULTS / f"categorize-{stamp}.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
