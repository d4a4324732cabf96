"""`outlay eval ...`: every evaluation's command, registered once (`server/cli.py` calls `add_arguments`,
as it does for `outlay audit`). Each command imports its evaluation when it runs: the command line
builds every parser at start-up, and `outlay serve` should not pay for numpy.

    categorize, approvers, forecast   model quality, offline, on a loaded company's engines
    review                            review_expenses on the demo's answer key and on real card data
    run, gate                         scripted conversations through an MCP client (evals/harness/)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from evals.folders import RESULTS
from evals.harness.arguments import add_arguments as add_conversation_arguments
from server.progress import progress
from server.settings import Settings

if TYPE_CHECKING:
    from tools.forecast.model import ModelName

EXIT_FAILED, EXIT_USAGE = 1, 2
SHARED_DATASETS = ("calderdale", "birmingham")  # the real ledgers in ../shared/datasets
COMPANY_HELP = "company slug (default OUTLAY_COMPANY, or the only company)"
OUT_HELP = (
    "folder for the results (default var/evals/, which git ignores; `--out evals/results` updates the "
    "committed reports)"
)
# Beside the checkout, where the shared real ledgers live (README of each dataset there).
DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    evals = parser.add_subparsers(required=True, metavar="EVAL")
    approvers = evals.add_parser(
        "approvers", help="replay the approval history: chain match, policy violations, latency"
    )
    approvers.add_argument("--out", type=Path, help=OUT_HELP)
    approvers.add_argument("--latency-calls", type=int, default=200, help="suggest_approver calls to time")
    approvers.set_defaults(command=cmd_approvers)

    categorize = evals.add_parser(
        "categorize", help="the categorizer on a time-based holdout: accuracy, calibration, coverage, cost"
    )
    _dataset_arguments(
        categorize,
        "a real ledger of the shared datasets, imported into a database of its own (else: --company)",
    )
    categorize.add_argument("--postgres-url", help="with --dataset: a PostgreSQL server to run it on")
    categorize.add_argument("--no-replay", action="store_true", help="with --dataset: skip the replay")
    categorize.add_argument("--company", help=COMPANY_HELP)
    categorize.add_argument("--answer-key", type=Path, help="CSV id,category_code of the true categories")
    categorize.add_argument("--out", type=Path, help=OUT_HELP)
    categorize.add_argument("--llm", action="store_true", help="ask the configured LLM about unsure answers")
    categorize.set_defaults(command=cmd_categorize)

    forecast = evals.add_parser(
        "forecast", help="rolling-origin backtests of the budget forecast: sMAPE, MASE, OWA, coverage, Brier"
    )
    _dataset_arguments(
        forecast,
        "real monthly series of a shared dataset, each a team budgeted at last year's quarter "
        "(else: --company)",
    )
    forecast.add_argument("--company", help=COMPANY_HELP)
    forecast.add_argument("--out", type=Path, help=OUT_HELP)
    forecast.add_argument("--origins", type=int, default=12, help="month ends to forecast from (default 12)")
    forecast.add_argument(
        "--models", default="theta", help="comma-separated, each backtested: theta, ets, theta+ets"
    )
    forecast.set_defaults(command=cmd_forecast)

    review = evals.add_parser(
        "review", help="review_expenses: precision and recall on the demo's answer key; real card data"
    )
    review.add_argument("--employees", type=int, default=250, help="the demo company's size (default 250)")
    review.add_argument("--months", type=int, default=24, help="its months (default 24)")
    review.add_argument("--seed", type=int, default=7)
    review.add_argument("--postgres-url", help="a PostgreSQL server to run it on (default: a SQLite file)")
    review.add_argument(
        "--no-real", action="store_true", help="the demo only: skip Calderdale and Birmingham"
    )
    review.add_argument(
        "--datasets",
        type=Path,
        default=Path(os.environ.get("OUTLAY_DATASETS", DATASETS)),
        help="the folder of the shared datasets (default OUTLAY_DATASETS, or ../shared/datasets)",
    )
    review.add_argument("--out", type=Path, help=OUT_HELP)
    review.set_defaults(command=cmd_review)

    conversations = evals.add_parser(
        "run", help="scripted conversations through an MCP client: scripted, live (Claude) or replayed agent"
    )
    add_conversation_arguments(conversations)
    conversations.set_defaults(command=cmd_run)

    gate = evals.add_parser("gate", help="compare a conversation run with a baseline; fail on a regression")
    gate.add_argument("current", type=Path, help="results JSON of the run to judge")
    gate.add_argument("--baseline", type=Path, required=True, help="results JSON of the accepted run")
    gate.add_argument("--latency-floor-ms", type=float, default=500.0, help="smaller slowdowns are noise")
    gate.set_defaults(command=cmd_gate)


def _dataset_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--dataset", choices=SHARED_DATASETS, help=what)
    parser.add_argument(
        "--datasets",
        type=Path,
        default=Path(os.environ.get("OUTLAY_DATASETS", DATASETS)),
        help="the folder of the shared datasets (default OUTLAY_DATASETS, or ../shared/datasets)",
    )


def cmd_categorize(settings: Settings, args: argparse.Namespace) -> int:
    if args.dataset:
        return _categorize_ledger(args)
    from evals import categorize
    from server.errors import OutlayError

    out = args.out or RESULTS
    options = categorize.Options(
        args.company or settings.company, args.answer_key, out, args.llm, settings.categorize_llm_calls
    )
    try:
        with progress("eval: categorize"):
            report = asyncio.run(categorize.run_on(settings, options))
    except OutlayError as exc:
        return _fail(str(exc))
    print(categorize.render(report), end="")
    print(f"Wrote {out}/categorize-{report['company']}.json and .md", file=sys.stderr)
    return 0


def _categorize_ledger(args: argparse.Namespace) -> int:
    from evals import categorize_ledgers as ledgers
    from evals.reports import write_report

    if not args.datasets.is_dir():
        return _no_datasets(args.datasets)
    options = ledgers.LedgerOptions(
        args.dataset, args.datasets, args.out or RESULTS, args.postgres_url, replay=not args.no_replay
    )
    with progress(f"eval: categorize {args.dataset}", every=30):
        report = ledgers.run_sync(options)
    markdown = ledgers.render(report)
    paths = write_report(options.out, f"categorize-{args.dataset}", report, markdown)
    print(markdown, end="")
    print(f"Wrote {', '.join(map(str, paths))}", file=sys.stderr)
    return 0


def cmd_approvers(settings: Settings, args: argparse.Namespace) -> int:
    from evals import approvers
    from server.db.schema import check_schema
    from server.errors import NotFound

    asyncio.run(check_schema(settings.database_url))
    try:
        with progress("eval: approvers"):
            report = asyncio.run(approvers.run(settings, latency_calls=args.latency_calls))
    except NotFound as exc:
        return _fail(str(exc), EXIT_USAGE)
    paths = approvers.write(report, args.out or RESULTS)
    print(approvers.markdown(report), end="")
    print(f"Wrote {', '.join(map(str, paths))}", file=sys.stderr)
    if report["policy_violations"]:
        return _fail(f"{report['policy_violations']} policy violation(s) in the engine's chains")
    return 0


def cmd_forecast(settings: Settings, args: argparse.Namespace) -> int:
    from evals import forecast
    from server.db.schema import check_schema
    from server.errors import NotFound

    try:
        models = forecast.parse_models(args.models)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if args.origins < 1:
        return _fail("--origins must be at least 1", EXIT_USAGE)
    if args.dataset:
        return _forecast_dataset(args, models)
    asyncio.run(check_schema(settings.database_url))
    try:
        with progress("eval: forecast"):
            report = asyncio.run(
                forecast.run(settings, company=args.company, origins=args.origins, models=models)
            )
    except NotFound as exc:
        return _fail(str(exc), EXIT_USAGE)
    paths = forecast.write(report, args.out or RESULTS)
    print(forecast.markdown(report), end="")
    print(f"Wrote {', '.join(map(str, paths))}", file=sys.stderr)
    return 0


def _forecast_dataset(args: argparse.Namespace, models: list[ModelName]) -> int:
    from evals import forecast, forecast_real

    if not args.datasets.is_dir():
        return _no_datasets(args.datasets)
    with progress(f"eval: forecast {args.dataset}"):
        report = forecast_real.run(args.dataset, args.datasets, models=models)
    paths = forecast.write(report, args.out or RESULTS)
    print(forecast.markdown(report), end="")
    print(f"Wrote {', '.join(map(str, paths))}", file=sys.stderr)
    return 0


def _no_datasets(folder: Path) -> int:
    return _fail(f"no datasets folder at {folder}: pass --datasets or set OUTLAY_DATASETS", EXIT_USAGE)


def cmd_review(_: Settings, args: argparse.Namespace) -> int:
    from evals import review
    from evals.reports import write_report
    from evals.review_report import markdown

    out = args.out or RESULTS
    datasets = None if args.no_real else args.datasets
    options = review.Options(out, args.employees, args.months, args.seed, args.postgres_url, datasets)
    with progress("eval: review", every=30):
        report = review.run_sync(options)
    text = markdown(report)
    paths = write_report(out, f"review-{report['demo']['company']}", report, text)
    print(text, end="")
    print(f"Wrote {', '.join(map(str, paths))}", file=sys.stderr)
    if "real_skipped" in report:
        print(f"outlay: {report['real_skipped']}", file=sys.stderr)
    return 0 if report["demo"]["targets_met"] else EXIT_FAILED


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from evals.harness import command

    return command.run(settings, args)


def cmd_gate(_: Settings, args: argparse.Namespace) -> int:
    from evals.harness import command

    return command.gate(args)


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"outlay: {message}", file=sys.stderr)
    return code
