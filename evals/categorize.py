"""`outlay eval categorize`: the categorizer on a time-based holdout of one company's books.

The company's categorized history (what a human or an imported rule decided) is split by date, as
`outlay train` does: the model (and the learned merchant rules) come from the earlier 80%, the answers
are scored on the later 20%, with the company's explicit rules and thresholds. Scored against:

- the books: the categories the company recorded, label noise included;
- an answer key, when given (`--answer-key FILE`, CSV `id,category_code`): what the expense really
  is. The demo company writes one (`answer_key.csv`): its books carry ~3% human mistakes, which cap
  any score against the books near 97%.

Reported: accuracy, macro-F1, expected calibration error, accuracy at 80/90/100% coverage, precision
and coverage of auto-apply, each deciding stage, merchants the model never saw (those new in the
holdout), the auto-apply threshold training would choose, and the cost of training and
of answering. JSON and Markdown go to `var/evals/categorize-<company>.{json,md}` (`--out evals/results`:
the committed ones).
"""

from __future__ import annotations

import csv
import datetime as dt
import platform
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from evals.reports import company_named, write_report
from server.context import AppContext, Caller
from server.db.models import Company
from server.errors import NotFound
from server.runtime import Runtime
from server.settings import Settings
from tools.categorize import learn, metrics, pipeline, training
from tools.categorize.books import Books, auto_apply_threshold, open_books
from tools.categorize.facts import minor
from tools.categorize.learn import Heldout
from tools.categorize.stages import consult_llm

TARGETS = {
    "accuracy": ">= 0.95",
    "unseen_accuracy": ">= 0.85 (LLM off)",
    "ece": "<= 0.03",
    "auto_apply": "precision >= 0.99 at coverage >= 0.70",
    "single_p50_ms": "<= 5",
    "batch_per_second": ">= 5000",
    "train_seconds": "< 10",
}
LATENCY_SAMPLES = 300


@dataclass(frozen=True)
class Options:
    company: str | None
    answer_key: Path | None
    out: Path
    llm: bool
    llm_limit: int


async def run_on(settings: Settings, options: Options) -> dict[str, Any]:
    """`run` on a runtime of its own (`outlay eval categorize`)."""
    async with Runtime(settings, local_company=None).open() as app:
        return await run(app, options)


async def run(app: AppContext, options: Options) -> dict[str, Any]:
    async with app.sessions() as session:
        company = await company_named(session, options.company)
        caller = Caller(company.id, company.slug, company.name, company.currency, "eval")
        books = await open_books(app, session, caller)
        history = await training.history(session, company)
        started = time.perf_counter()
        tested = await anyio.to_thread.run_sync(_backtest, history)
        backtest_seconds = time.perf_counter() - started
        if tested is None:
            raise NotFound(f"{company.slug} has too little categorized history to hold any out")
        held = _held_books(books, tested, history)
        late = tested.examples
        decisions = pipeline.decide(held.company, tested.model, [e.facts for e in late], tested.scores)
        if options.llm:
            amounts = [minor(e.facts.amount, company.currency) for e in late]
            decisions = await consult_llm(
                app, caller, session, held, [e.facts for e in late], amounts, decisions, options.llm_limit
            )
    key = _read_key(options.answer_key) if options.answer_key else None
    report = _report(company, held.company, tested, decisions, key, options)
    report["cost"] = await anyio.to_thread.run_sync(_cost, history, held.company, tested, backtest_seconds)
    write_report(options.out, f"categorize-{company.slug}", report, render(report))
    return report


def _backtest(history: training.History) -> Heldout | None:
    with threadpool_limits(limits=1):
        return learn.backtest(history.examples, history.mcc_categories, history.target_precision)


def _held_books(books: Books, tested: Heldout, history: training.History) -> Books:
    """The company's books with model A in place of the serving model, and the auto-apply threshold the
    company would have with it."""
    thresholds = replace(
        books.company.thresholds,
        auto_apply=auto_apply_threshold(history.settings, tested.model),
    )
    return replace(
        books, artifact=tested.model, version=None, company=replace(books.company, thresholds=thresholds)
    )


def _read_key(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["id"]: row["category_code"] for row in csv.DictReader(handle)}


def _report(
    company: Company,
    rules: pipeline.Company,
    tested: Heldout,
    decisions: Sequence[pipeline.Decision],
    key: dict[str, str] | None,
    options: Options,
) -> dict[str, Any]:
    late, auto = tested.examples, rules.thresholds.auto_apply
    predicted = [d.best.code if d.best else None for d in decisions]
    confidence = [d.confidence for d in decisions]
    books = [e.code for e in late]
    unseen = [i for i, d in enumerate(decisions) if not d.merchant_seen]
    report: dict[str, Any] = {
        "company": company.slug,
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "llm": options.llm,
        "split": {
            "train_rows": tested.trained_rows,
            "holdout_from": late[0].day.isoformat(),
            "holdout_until": late[-1].day.isoformat(),
            "holdout_rows": len(late),
        },
        "thresholds": {"review": rules.thresholds.review, "auto_apply": auto},
        "books": metrics.summary(predicted, confidence, books, auto),
        "stages": _stages(decisions, predicted, books),
        "unseen_merchants": _subset(unseen, predicted, confidence, books, auto),
        "auto_apply_chosen": {
            "threshold": tested.chosen.threshold,
            "coverage": round(tested.chosen.coverage, 4),
            "answers": tested.chosen.answers,
        },
        "targets": TARGETS,
    }
    if key is not None:
        truth = [key.get(e.ref, e.code) for e in late]
        report["answer_key"] = metrics.summary(predicted, confidence, truth, auto)
        report["answer_key"]["books_agree_with_key"] = round(metrics.accuracy(books, truth), 4)
        report["unseen_merchants"]["answer_key"] = _subset(unseen, predicted, confidence, truth, auto)
    return report


def _stages(
    decisions: Sequence[pipeline.Decision], predicted: Sequence[str | None], truth: Sequence[str]
) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for stage, count in Counter(d.source for d in decisions).most_common():
        chosen = [i for i, d in enumerate(decisions) if d.source == stage]
        found[stage] = {
            "count": count,
            "share": round(count / len(decisions), 4),
            "accuracy": round(
                metrics.accuracy([predicted[i] for i in chosen], [truth[i] for i in chosen]), 4
            ),
            "mean_confidence": round(statistics.fmean(decisions[i].confidence for i in chosen), 4),
        }
    return found


def _subset(
    chosen: Sequence[int],
    predicted: Sequence[str | None],
    confidence: Sequence[float],
    truth: Sequence[str],
    auto: float,
) -> dict[str, Any]:
    return metrics.summary(
        [predicted[i] for i in chosen], [confidence[i] for i in chosen], [truth[i] for i in chosen], auto
    )


def _cost(
    history: training.History, rules: pipeline.Company, tested: Heldout, backtest_seconds: float
) -> dict[str, Any]:
    """Training time (what `outlay train` spends in the model), and answering time in process."""
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        learn.train(history.examples, history.mcc_categories, rules.thresholds, history.target_precision)
    train_seconds = time.perf_counter() - started
    facts = [e.facts for e in tested.examples]
    singles = []
    for item in facts[:: max(1, len(facts) // LATENCY_SAMPLES)][:LATENCY_SAMPLES]:
        one = time.perf_counter()
        pipeline.decide(rules, tested.model, [item])
        singles.append((time.perf_counter() - one) * 1000)
    started = time.perf_counter()
    pipeline.decide(rules, tested.model, facts)
    batch_seconds = time.perf_counter() - started
    return {
        "train_seconds": round(train_seconds, 2),
        "backtest_seconds": round(backtest_seconds, 2),
        "single_p50_ms": round(statistics.median(singles), 3),
        "single_p95_ms": round(statistics.quantiles(singles, n=20)[-1], 3),
        "batch_rows": len(facts),
        "batch_per_second": round(len(facts) / batch_seconds),
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def render(report: dict[str, Any]) -> str:
    """The report as Markdown: headline metrics, merchants never seen, deciding stages, cost."""
    key = report.get("answer_key")
    scored = [report["books"], *([key] if key else [])]
    lines = [*_title(report), f"| metric | books |{' answer key |' if key else ''} target (demo) |"]
    lines.append("|" + " --- |" * (len(scored) + 2))
    lines += [_row(label, [pick(m) for m in scored], target) for label, pick, target in _METRICS]
    found = report["unseen_merchants"]
    if found["count"]:
        values = [_pct(found["accuracy"])]
        values += [_pct(found["answer_key"]["accuracy"])] if key else []
        lines.append(
            _row(f"unseen merchants in the holdout (n={found['count']})", values, TARGETS["unseen_accuracy"])
        )
    if key:
        lines += [
            "",
            f"The books agree with the answer key on {_pct(key['books_agree_with_key'])} of the holdout.",
        ]
    lines += ["", "| deciding stage | expenses | share | accuracy (books) | mean confidence |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for stage, found in report["stages"].items():
        values = [f"{found['count']:,}", _pct(found["share"]), _pct(found["accuracy"])]
        lines.append(_row(stage, values, f"{found['mean_confidence']:.3f}"))
    if cost := report.get("cost"):
        lines += ["", _cost_line(cost)]
    return "\n".join(lines) + "\n"


_METRICS: list[tuple[str, Any, str]] = [
    ("top-1 accuracy", lambda m: _pct(m["accuracy"]), TARGETS["accuracy"]),
    ("macro-F1", lambda m: f"{m['macro_f1']:.3f}", ""),
    ("expected calibration error", lambda m: f"{m['ece']:.4f}", TARGETS["ece"]),
    *(
        (f"accuracy at {c} coverage", lambda m, c=c: _pct(m["accuracy_at_coverage"][c]), "")
        for c in ("80%", "90%", "100%")
    ),
    ("auto-apply precision", lambda m: _pct(m["auto_apply"]["precision"]), ">= 0.99"),
    ("auto-apply coverage", lambda m: _pct(m["auto_apply"]["coverage"]), ">= 0.70"),
]


def _row(label: str, values: list[str], last: str) -> str:
    return f"| {label} | {' | '.join(values)} | {last} |"


def _title(report: dict[str, Any]) -> list[str]:
    split, thresholds = report["split"], report["thresholds"]
    llm = "on" if report["llm"] else "off"
    return [
        f"# Categorizer eval: {report['company']} ({report['generated'][:10]}, LLM {llm})",
        "",
        f"Trained on {split['train_rows']:,} expenses; scored on the "
        f"{split['holdout_rows']:,} categorized from {split['holdout_from']} to {split['holdout_until']}. "
        f"Review below {thresholds['review']}, auto-apply from {thresholds['auto_apply']}.",
        "",
    ]


def _cost_line(cost: dict[str, Any]) -> str:
    return (
        f"Cost: training {cost['train_seconds']} s (target {TARGETS['train_seconds']}); one expense in "
        f"process p50 {cost['single_p50_ms']} ms, p95 {cost['single_p95_ms']} ms; a batch of "
        f"{cost['batch_rows']:,} at {cost['batch_per_second']:,} expenses/s on one core."
    )
