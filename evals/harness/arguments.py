"""The arguments of `outlay eval run`, apart from the harness so that building the CLI's parser imports
nothing heavy (every `outlay serve` builds it)."""

from __future__ import annotations

import argparse
from pathlib import Path

TRANSPORTS = ("memory", "stdio", "http")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, help="scenario files or folders (default: evals/scenarios/)"
    )
    parser.add_argument(
        "--tags", help="comma-separated: run the scenarios with any of these tags (smoke, ...)"
    )
    parser.add_argument(
        "--id", action="append", default=[], dest="ids", help="run this scenario (repeatable)"
    )
    parser.add_argument("--agent", choices=["scripted", "live", "replay"], default="scripted")
    parser.add_argument("--transport", choices=TRANSPORTS, default="memory")
    parser.add_argument("--trials", type=int, default=1, help="trials per scenario (pass^k for k up to it)")
    parser.add_argument("--concurrency", type=int, default=4, help="trials held at the same time")
    parser.add_argument(
        "--postgres-url",
        help="run on PostgreSQL: a server URL (postgresql+asyncpg://USER@HOST/DB) to create databases on; "
        "default SQLite files in a temporary folder",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default var/evals/, which git ignores; `--out evals/results` updates the "
        "committed reports)",
    )
    parser.add_argument("--name", help="results file stem (default: conversations-<agent>-<backend>)")
    parser.add_argument("--record", type=Path, help="live: record the model's replies into this folder")
    parser.add_argument("--recordings", type=Path, help="replay: the folder a live run recorded into")
    parser.add_argument(
        "--simulated-user",
        action="store_true",
        help="live: an LLM plays the user from the scenario's instruction after the first turn",
    )
    parser.add_argument("--baseline", type=Path, help="compare with this results file; fail on a regression")
    parser.add_argument(
        "--latency-floor-ms", type=float, default=500.0, help="gate: smaller slowdowns are noise"
    )
    parser.add_argument("--quiet", action="store_true", help="no line per trial")
