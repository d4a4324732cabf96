"""`outlay eval review`: `review_expenses` scored on the demo's answer key, and counted on real card data.

1. **Demo.** The demo company (`--employees`, `--months`, `--seed`) is written with its planted cases
   and answer key (server/demo/review_cases.py), imported into a fresh database (`outlay import
   --no-train` in a child process: a SQLite file, or a database on `--postgres-url`), and reviewed
   month by month through the real tool (`review_expenses`, an in-memory MCP client, every page). The
   findings are scored against the key: precision and recall per rule, per rule kind and per pattern
   (evals/review_scoring.py), against issue 22's targets (95% per rule kind, 85% per pattern).
2. **Real data** (`--datasets`, default ../shared/datasets; skipped with a message when absent): the
   Calderdale and Birmingham purchase-card ledgers, imported through their shipped mappings, reviewed
   with a policy of patterns only (REAL_POLICY: the councils' approval thresholds are unknown, so the
   only limit is an assumed single-transaction card limit). Counts per pattern, and a sample of
   `SAMPLE` findings with their evidence for a person to judge (`review-<dataset>-sample.csv`, with an
   empty `verdict` column).

JSON and Markdown go to `var/evals/review-acme.{json,md}` (`--out evals/results`: the committed ones).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import random
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from pydantic import SecretStr
from sqlalchemy import func, select

from evals.categorize_ledgers import _child, _database
from evals.review_scoring import Score, score_all
from server import progress
from server.db.engine import create_engine
from server.db.models import Expense
from server.demo import write_demo_company
from server.demo.review_cases import ANSWERS, read_key
from server.demo.review_key import Case
from server.settings import Settings

DEMO_TODAY = dt.date(2026, 11, 20)
PAGE = 100  # review_expenses' largest page
SAMPLE = 50
CURSOR_SECRET = "outlay-evals-cursor-secret"  # noqa: S105  (signs cursors of a throwaway eval database)
MAPPINGS = Path(__file__).resolve().parents[1] / "server" / "importer" / "mappings"
REAL = {
    "calderdale": ("calderdale-gpc/calderdale_gpc_2014_2022.csv.gz", "calderdale.yaml"),
    "birmingham": ("birmingham-pcard/birmingham_pcard_2017_2022.csv.gz", "birmingham.yaml"),
}
CARD_LIMIT_GBP = "1000"
# The councils publish no approval policy and no card limits: the patterns at their defaults, plus a
# single-transaction limit of 1,000 GBP, a common purchase-card limit in UK councils' card policies
# (500 to 5,000 GBP), so that split purchases have something to split around.
REAL_POLICY: dict[str, Any] = {"rules": [], "patterns": {"split_purchases": {"card_limit": CARD_LIMIT_GBP}}}


@dataclass(frozen=True)
class Options:
    out: Path
    employees: int = 250
    months: int = 24
    seed: int = 7
    postgres_url: str | None = None
    datasets: Path | None = None  # None: the demo only


@dataclass(frozen=True)
class Found:
    """One finding as the tool returned it, reduced to what is scored and shown."""

    case: Case
    severity: str
    reason: str
    at_stake: str
    evidence: dict[str, str]


def run_sync(options: Options) -> dict[str, Any]:
    return anyio.run(run, options)


async def run(options: Options) -> dict[str, Any]:
    logging.getLogger("outlay").setLevel(logging.WARNING)  # a log line per call says nothing here
    report: dict[str, Any] = {"backend": "postgresql" if options.postgres_url else "sqlite"}
    report["demo"] = await demo(options)
    if options.datasets is not None and not options.datasets.is_dir():
        report["real_skipped"] = (
            f"Skipped: no datasets folder at {options.datasets} (pass --datasets or set OUTLAY_DATASETS)."
        )
    elif options.datasets is not None:
        report["real"] = {name: await real(options, name) for name in REAL}
    return report


# ---- the demo ------------------------------------------------------------------------------------------


async def demo(options: Options) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="outlay-eval-review-") as work:
        folder = Path(work) / "acme"
        with progress.progress("eval review: demo written"):
            summary = write_demo_company(
                folder,
                seed=options.seed,
                employees=options.employees,
                months=options.months,
                today=DEMO_TODAY,
            )
        key = read_key(folder / ANSWERS)
        async with _database(options.postgres_url, Path(work), "acme") as url:
            with progress.progress("eval review: demo imported"):
                imported = _child(["import", str(folder), "--no-train"], url, Path(work) / "import.log")
            started = time.perf_counter()
            found = await review_months(url, "acme", summary.first_date, DEMO_TODAY)
            seconds = time.perf_counter() - started
    scores = score_all((case for _, case in key), (f.case for f in found))
    return {
        "company": "acme",
        "size": f"{options.employees}x{options.months}",
        "seed": options.seed,
        "expenses": summary.expenses,
        "key": dict(Counter(origin for origin, _ in key)),
        "findings": len(found),
        "import_seconds": round(imported.seconds, 1),
        "review_seconds": round(seconds, 1),
        "targets_met": all(s.meets_target() for s in [*scores["rule_kinds"], *scores["patterns"]]),
        **{part: [_score(s) for s in values] for part, values in scores.items()},
        "injected_recall": _injected_recall(key, found),
        "missed": _examples([c for _, c in key], [f.case for f in found]),
        "unexpected": _examples([f.case for f in found], [c for _, c in key]),
    }


def _score(score: Score) -> dict[str, Any]:
    return {
        "label": score.label,
        "cases": score.cases,
        "recalled": score.recalled,
        "findings": score.findings,
        "correct": score.correct,
        "precision": None if score.precision is None else round(score.precision, 4),
        "recall": None if score.recall is None else round(score.recall, 4),
        "target": score.target,
        "met": score.meets_target(),
    }


def _injected_recall(key: list[tuple[str, Case]], found: list[Found]) -> dict[str, float | None]:
    """Recall of the planted cases alone, per label: what the injection promises to be findable."""
    scores = score_all((c for origin, c in key if origin == "injected"), (f.case for f in found))
    return {s.label: s.recall for part in ("rules", "patterns") for s in scores[part] if s.cases}


def _examples(cases: list[Case], others: list[Case], limit: int = 5) -> dict[str, list[list[str]]]:
    """Per label, up to `limit` of `cases` that share no expense with any of `others` of that label."""
    seen = {(other.label, ref) for other in others for ref in other.refs}
    found: dict[str, list[list[str]]] = {}
    for case in cases:
        if not any((case.label, ref) in seen for ref in case.refs):
            listed = found.setdefault(case.label, [])
            if len(listed) < limit:
                listed.append(list(case.refs))
    return found


# ---- the tool ------------------------------------------------------------------------------------------


@asynccontextmanager
async def _session(url: str, slug: str, today: dt.date) -> AsyncIterator[Client]:
    from server.app import build_server

    settings = Settings(database_url=url, company=slug, cursor_secret=SecretStr(CURSOR_SECRET), today=today)
    settings = settings.model_copy(
        update={"gateway": settings.gateway.model_copy(update={"provider": "none"})}
    )
    async with Client(build_server(settings, local_company=slug)) as client:
        yield client


def months_between(first: dt.date, last: dt.date) -> Iterator[str]:
    """YYYY-MM of every month from `first`'s to `last`'s."""
    index, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    for month in range(index, end + 1):
        yield f"{month // 12}-{month % 12 + 1:02d}"


async def review_months(url: str, slug: str, first: dt.date, last: dt.date) -> list[Found]:
    """Every finding of every month from `first` to `last`, each month's every page."""
    months = list(months_between(first, last))
    found: list[Found] = []
    async with _session(url, slug, last) as client:
        for month in progress.track(months, f"eval review: {slug} months reviewed"):
            found += await _review(client, {"period": month})
    return found


async def _review(client: Client, arguments: dict[str, Any]) -> list[Found]:
    found: list[Found] = []
    cursor: str | None = None
    while True:
        page = {**arguments, "limit": PAGE} | ({"cursor": cursor} if cursor else {})
        result = await client.call_tool("review_expenses", page)
        if result.is_error or result.structured_content is None:
            raise RuntimeError(f"review_expenses {page} failed: {result.content}")
        content = result.structured_content
        found += [_found(item) for item in content["findings"]]
        cursor = content.get("next_cursor")
        if not cursor:
            return found


def _found(item: dict[str, Any]) -> Found:
    refs = tuple(expense["id"] for expense in item["expenses"])
    stake = item["amount_at_stake"]
    at_stake = stake if isinstance(stake, str) else f"{stake['amount']} {stake['currency']}"
    return Found(
        Case(item["kind"], item.get("rule"), refs),
        item["severity"],
        item["reason"],
        at_stake,
        {key: str(value) for key, value in (item.get("evidence") or {}).items()},
    )


# ---- real card data ------------------------------------------------------------------------------------


async def real(options: Options, name: str) -> dict[str, Any]:
    assert options.datasets is not None
    export, mapping = REAL[name]
    with tempfile.TemporaryDirectory(prefix=f"outlay-eval-review-{name}-") as work:
        policy = Path(work) / "expense_policy.json"
        policy.write_text(json.dumps(REAL_POLICY, indent=2), encoding="utf-8")
        async with _database(options.postgres_url, Path(work), name) as url:
            arguments = ["import", "--mapping", str(MAPPINGS / mapping), str(options.datasets / export)]
            with progress.progress(f"eval review: {name} imported"):
                _child([*arguments, "--no-train"], url, Path(work) / "import.log")
            _child(["policy", "load", str(policy), "--company", name], url, Path(work) / "policy.log")
            first, last, expenses = await _span(url)
            started = time.perf_counter()
            found = await review_months(url, name, first, last)
            seconds = time.perf_counter() - started
    rng = random.Random(f"outlay-eval-review:{name}")  # noqa: S311  # a reproducible sample
    sample = rng.sample(found, min(SAMPLE, len(found)))
    sample.sort(key=lambda f: (f.case.kind, f.case.refs))
    path = write_sample(options.out, name, sample)
    return {
        "expenses": expenses,
        "span": [first.isoformat(), last.isoformat()],
        "policy": REAL_POLICY,
        "findings": len(found),
        "by_kind": dict(sorted(Counter(f.case.kind for f in found).items())),
        "review_seconds": round(seconds, 1),
        "sample": path.name,  # beside the report
        "sample_rows": [_sample_row(number, f) for number, f in enumerate(sample, 1)],
    }


async def _span(url: str) -> tuple[dt.date, dt.date, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            query = select(func.min(Expense.spent_on), func.max(Expense.spent_on), func.count())
            first, last, count = (await connection.execute(query)).one()
    finally:
        await engine.dispose()
    return first, last, count


SAMPLE_COLUMNS = ("n", "kind", "severity", "expenses", "at_stake", "reason", "evidence", "verdict")


def _sample_row(number: int, found: Found) -> dict[str, str]:
    return {
        "n": str(number),
        "kind": found.case.kind,
        "severity": found.severity,
        "expenses": " ".join(found.case.refs),
        "at_stake": found.at_stake,
        "reason": found.reason,
        "evidence": "; ".join(f"{k}: {v}" for k, v in found.evidence.items()),
        "verdict": "",
    }


def write_sample(out: Path, name: str, sample: list[Found]) -> Path:
    """The sample as CSV, a row per finding with an empty `verdict` for the person who judges it."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"review-{name}-sample.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, SAMPLE_COLUMNS)
        writer.writeheader()
        writer.writerows(_sample_row(number, f) for number, f in enumerate(sample, 1))
    return path
