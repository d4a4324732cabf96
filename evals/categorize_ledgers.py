"""`outlay eval categorize --dataset calderdale|birmingham`: the categorizer on a real ledger, as a new
user meets it, beside two baselines the eval fits itself on the same rows (evals/categorize_baselines.py).

1. The ledger becomes an import folder (evals/datasets/): the training period categorized by a person,
   the test period uncategorized, its true labels kept aside.
2. A fresh database (a SQLite file, or one on `--postgres-url`): `outlay import` in a child process
   (which trains the first categorizer), then `outlay train --no-serve` in another, which times training
   alone (wall seconds, and the peak resident memory of that process).
3. The test period answered by `categorize_expenses` (a dry run of apply) through an MCP client session:
   what the server says would be auto-applied, and what needs review. LLM off.
4. Online replay, on a copy of the database: the test period in date order, each expense answered and,
   when its answer needs review, corrected through `recategorize_expense` with the true category before
   the next one is answered, as a person working the review queue would. Accuracy per month, beside the
   same months answered without any correction (step 3).

JSON and Markdown go to `var/evals/categorize-<dataset>.{json,md}` (`--out evals/results` for the
committed ones).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import asyncpg
from mcp import Client
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from evals import categorize_baselines as baselines
from evals.datasets import birmingham, calderdale
from evals.datasets.ledgers import Ledger, LedgerRow, code_for, write_folder
from server.db.engine import libpq_url
from server.kit.merchants import merchant_key
from server.settings import Settings
from tools.categorize import metrics

LEDGERS = {"calderdale": calderdale.load, "birmingham": birmingham.load}
TARGETS = {
    "top1": ">= the stronger baseline + 4 points",
    "auto_apply": "precision >= 0.97 at coverage >= 0.25",
    "ece": "<= 0.03",
    "train": "<= 30 s and <= 600 MB for 100k expenses (bench: training curve)",
    "replay": "accuracy with corrections >= without + 3 points",
}
BATCH = 1000  # categorize_expenses takes at most this many ids
AHEAD = 4  # the replay's answers per call: more are wasted when an early one needs review
CURSOR_SECRET = "outlay-evals-cursor-secret"  # noqa: S105  (signs cursors of a throwaway eval database)


@dataclass(frozen=True)
class LedgerOptions:
    dataset: str
    datasets: Path  # the folder holding the shared datasets
    out: Path
    postgres_url: str | None = None
    replay: bool = True


@dataclass(frozen=True)
class Answer:
    code: str | None
    confidence: float
    needs_review: bool
    would_apply: bool
    source: str


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float


def run_sync(options: LedgerOptions) -> dict[str, Any]:
    return anyio.run(run, options)


async def run(options: LedgerOptions) -> dict[str, Any]:
    # The in-memory server logs a line per call; tens of thousands of them say nothing here.
    logging.getLogger("outlay").setLevel(logging.WARNING)
    ledger = LEDGERS[options.dataset](options.datasets)
    train = [r for r in ledger.rows if not r.test]
    test = sorted((r for r in ledger.rows if r.test), key=lambda r: (r.date, r.ref))
    with tempfile.TemporaryDirectory(prefix=f"outlay-eval-{ledger.slug}-") as work:
        folder = Path(work) / ledger.slug
        written = write_folder(ledger, folder)
        async with _database(options.postgres_url, Path(work), ledger.slug) as url:
            imported = _child(["import", str(folder)], url, Path(work) / "import.log")
            trained = _child(["train", "--company", ledger.slug, "--no-serve"], url, Path(work) / "train.log")
            answers = await _answer(url, ledger.slug, test)
            replay = None
            if options.replay:
                started = time.perf_counter()
                async with _copy(url, options.postgres_url, Path(work)) as copy:
                    replay = await _replay(copy, ledger.slug, test, answers)
                replay["seconds"] = round(time.perf_counter() - started)
    report = _report(ledger, train, test, answers, written, imported, trained)
    report["replay"] = replay
    return report


def _report(
    ledger: Ledger,
    train: Sequence[LedgerRow],
    test: Sequence[LedgerRow],
    answers: dict[str, Answer],
    written: dict[str, int],
    imported: ChildRun,
    trained: ChildRun,
) -> dict[str, Any]:
    truth = [code_for(r.label) for r in test]
    seen = {merchant_key(r.descriptor) for r in train}
    unseen = [i for i, r in enumerate(test) if merchant_key(r.descriptor) not in seen]
    found = [answers[r.ref] for r in test]
    outlay = _scores([a.code for a in found], [a.confidence for a in found], truth, unseen)
    outlay["auto_apply"] = _auto_apply(found, truth)
    outlay["needs_review"] = round(sum(a.needs_review for a in found) / len(found), 4)
    outlay["sources"] = dict(Counter(a.source for a in found).most_common())
    majority = baselines.majority_per_merchant(train, test)
    started = time.perf_counter()
    tfidf, tuning = baselines.tfidf_sgd(train, test)
    tuning["seconds"] = round(time.perf_counter() - started, 1)
    stronger = max(
        _scores([code_for(p) for p in majority.predicted], None, truth, unseen)["top1"],
        _scores([code_for(p) for p in tfidf.predicted], tfidf.confidence, truth, unseen)["top1"],
    )
    return {
        "dataset": ledger.slug,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "split": {"rule": ledger.split, **written, "dropped": dict(ledger.dropped)},
        "outlay": outlay,
        "baselines": {
            "majority_per_merchant": _scores([code_for(p) for p in majority.predicted], None, truth, unseen),
            "tfidf_sgd": {
                **_scores([code_for(p) for p in tfidf.predicted], tfidf.confidence, truth, unseen),
                "tuning": tuning,
            },
        },
        "margin_over_stronger_baseline": round(outlay["top1"] - stronger, 4),
        "cost": {
            "import_seconds": round(imported.seconds, 1),
            "import_peak_rss_mb": round(imported.peak_rss_mb),
            "train_seconds": round(trained.seconds, 1),
            "train_peak_rss_mb": round(trained.peak_rss_mb),
        },
        "targets": TARGETS,
    }


def _scores(
    predicted: Sequence[str | None],
    confidence: Sequence[float] | None,
    truth: Sequence[str],
    unseen: list[int],
) -> dict[str, Any]:
    correct = [p == t for p, t in zip(predicted, truth, strict=True)]
    found: dict[str, Any] = {
        "top1": round(metrics.accuracy(predicted, truth), 4),
        "macro_f1": round(metrics.macro_f1(predicted, truth), 4),
        "unseen_merchants": {
            "share": round(len(unseen) / len(truth), 4),
            "top1": round(metrics.accuracy([predicted[i] for i in unseen], [truth[i] for i in unseen]), 4),
        },
    }
    if confidence is not None:
        found["ece"] = round(metrics.expected_calibration_error(confidence, correct), 4)
    return found


def _auto_apply(found: Sequence[Answer], truth: Sequence[str]) -> dict[str, Any]:
    chosen = [i for i, a in enumerate(found) if a.would_apply]
    right = sum(found[i].code == truth[i] for i in chosen)
    return {
        "coverage": round(len(chosen) / len(found), 4),
        "precision": round(right / len(chosen), 4) if chosen else None,
        "count": len(chosen),
    }


# ---- the server, as a user runs it ------------------------------------------------------------------


def _child(arguments: list[str], url: str, log: Path) -> ChildRun:
    """`outlay <arguments>` in a child process on `url`: its wall time and peak resident memory."""
    env = {**os.environ, "OUTLAY_DATABASE_URL": url, "OUTLAY_GATEWAY__PROVIDER": "none"}
    started = time.perf_counter()
    with log.open("wb") as output:
        child = subprocess.Popen(  # noqa: S603  (our own CLI, arguments built here)
            [sys.executable, "-m", "server.cli", *arguments], env=env, stdout=output, stderr=output
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"outlay {' '.join(arguments)} failed: {log.read_text()[-2000:]}")
    return ChildRun(seconds, usage.ru_maxrss / 1024)


@asynccontextmanager
async def _session(url: str, slug: str) -> AsyncIterator[Client]:
    from server.app import build_server

    settings = Settings(database_url=url, company=slug, cursor_secret=SecretStr(CURSOR_SECRET))
    settings = settings.model_copy(
        update={"gateway": settings.gateway.model_copy(update={"provider": "none"})}
    )
    async with Client(build_server(settings, local_company=slug)) as client:
        yield client


async def _categorize(client: Client, refs: Sequence[str]) -> dict[str, Answer]:
    found: dict[str, Answer] = {}
    for first in range(0, len(refs), BATCH):
        arguments = {"expense_ids": list(refs[first : first + BATCH]), "apply": True, "dry_run": True}
        result = await client.call_tool("categorize_expenses", arguments)
        if result.is_error or result.structured_content is None:
            raise RuntimeError(f"categorize_expenses failed: {result.content}")
        for item in result.structured_content["items"]:
            best = item.get("category") or {}
            found[item["expense_id"]] = Answer(
                best.get("code"),
                float(best.get("confidence") or 0.0),
                bool(item["needs_review"]),
                item["outcome"] == "would_apply",
                str(item["source"]),
            )
    return found


async def _answer(url: str, slug: str, test: Sequence[LedgerRow]) -> dict[str, Answer]:
    async with _session(url, slug) as client:
        return await _categorize(client, [r.ref for r in test])


async def _replay(
    url: str, slug: str, test: Sequence[LedgerRow], without: dict[str, Answer]
) -> dict[str, Any]:
    """In date order: answer each expense, and correct it when it needs review before the next is
    answered; accuracy per month with corrections and without. A few expenses are answered per call
    (`AHEAD`): the answers up to the first that needs review stand as they are (no correction came
    between them), the rest are asked again after the correction."""
    months: defaultdict[str, Counter[str]] = defaultdict(Counter)
    corrections, i = 0, 0
    async with _session(url, slug) as client:
        while i < len(test):
            ahead = test[i : i + AHEAD]
            answered = await _categorize(client, [r.ref for r in ahead])
            for row in ahead:
                i += 1
                truth, month = code_for(row.label), row.date[:7]
                months[month]["expenses"] += 1
                months[month]["with"] += answered[row.ref].code == truth
                months[month]["without"] += without[row.ref].code == truth
                if answered[row.ref].needs_review:
                    await _correct(client, row.ref, truth)
                    corrections += 1
                    break
    return _replay_table(months, corrections)


async def _correct(client: Client, ref: str, code: str) -> None:
    result = await client.call_tool("recategorize_expense", {"expense_id": ref, "category": code})
    if result.is_error:
        raise RuntimeError(f"recategorize_expense {ref} failed: {result.content}")


def _replay_table(months: dict[str, Counter[str]], corrections: int) -> dict[str, Any]:
    total = sum(m["expenses"] for m in months.values())
    with_, without = (sum(m[k] for m in months.values()) / total for k in ("with", "without"))
    return {
        "corrections": corrections,
        "accuracy_with": round(with_, 4),
        "accuracy_without": round(without, 4),
        "gain": round(with_ - without, 4),
        "months": {
            month: {
                "expenses": m["expenses"],
                "with": round(m["with"] / m["expenses"], 4),
                "without": round(m["without"] / m["expenses"], 4),
            }
            for month, m in sorted(months.items())
        },
    }


# ---- databases ---------------------------------------------------------------------------------------


@asynccontextmanager
async def _database(postgres_url: str | None, work: Path, slug: str) -> AsyncIterator[str]:
    """A new migrated database: a SQLite file in `work`, or a database on the PostgreSQL server."""
    if postgres_url is None:
        url = f"sqlite+aiosqlite:///{work / slug}.db"
        _child(["db", "upgrade"], url, work / "upgrade.log")
        yield url
        return
    name = f"outlay_eval_{slug}_{os.getpid()}"
    await _admin(postgres_url, f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        _child(["db", "upgrade"], url, work / "upgrade.log")
        yield url
    finally:
        await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def _copy(url: str, postgres_url: str | None, work: Path) -> AsyncIterator[str]:
    """A copy of the database at `url`, for a run that writes."""
    if postgres_url is None:
        source = Path(make_url(url).database or "")
        target = work / f"replay-{source.name}"
        await anyio.to_thread.run_sync(shutil.copyfile, source, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    name = f"{make_url(url).database}_replay"
    await _admin(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(postgres_url: str, statement: str) -> None:
    connection = await asyncpg.connect(libpq_url(postgres_url), timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


# ---- the report ------------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    outlay, base = report["outlay"], report["baselines"]
    split, cost = report["split"], report["cost"]
    auto = outlay["auto_apply"]
    lines = [
        f"# Categorizer on a real ledger: {report['dataset']} ({report['generated'][:10]}, LLM off)",
        "",
        f"Split: {split['rule']}; {split['train']:,} expenses to learn from, {split['test']:,} to answer, "
        f"{split['categories']} categories, {split['teams']} teams"
        + (
            f"; left out: {', '.join(f'{n:,} {why}' for why, n in split['dropped'].items())}"
            if split["dropped"]
            else ""
        )
        + ". Answered by `categorize_expenses` over MCP (a dry run of apply).",
        "",
        "| | top-1 | macro-F1 | unseen merchants (share) | ECE |",
        "| --- | --- | --- | --- | --- |",
        _row("Outlay", outlay),
        _row("majority label per merchant", base["majority_per_merchant"]),
        _row("TF-IDF + linear SGD", base["tfidf_sgd"]),
        "",
        f"Margin over the stronger baseline: {report['margin_over_stronger_baseline'] * 100:+.1f} points "
        f"(target: +4).",
        f"Auto-apply: precision {_pct(auto['precision'])} at coverage {_pct(auto['coverage'])} "
        f"({auto['count']:,} expenses; target 97% at 25%). Needs review: {_pct(outlay['needs_review'])}.",
        f"Deciding stages: {', '.join(f'{k} {v:,}' for k, v in outlay['sources'].items())}.",
        f"Cost: training {cost['train_seconds']} s, peak RSS {cost['train_peak_rss_mb']} MB "
        f"(`outlay train`, a process of its own); import with the first training {cost['import_seconds']} s, "
        f"{cost['import_peak_rss_mb']} MB.",
    ]
    replay = report.get("replay")
    if replay:
        lines += [
            "",
            f"## Online replay: {replay['corrections']:,} corrections through `recategorize_expense`",
            "",
            f"Accuracy with corrections {_pct(replay['accuracy_with'])}, "
            f"without {_pct(replay['accuracy_without'])} ({replay['gain'] * 100:+.1f} points; target +3).",
            "",
            "| month | expenses | with corrections | without |",
            "| --- | --- | --- | --- |",
            *(
                f"| {month} | {m['expenses']:,} | {_pct(m['with'])} | {_pct(m['without'])} |"
                for month, m in replay["months"].items()
            ),
        ]
    return "\n".join(lines) + "\n"


def _row(label: str, scores: dict[str, Any]) -> str:
    unseen = scores["unseen_merchants"]
    ece = f"{scores['ece']:.4f}" if "ece" in scores else "-"
    return (
        f"| {label} | {_pct(scores['top1'])} | {scores['macro_f1']:.3f} | "
        f"{_pct(unseen['top1'])} ({_pct(unseen['share'])}) | {ece} |"
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"
