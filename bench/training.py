"""The categorizer's training curve: rows x categories -> seconds and peak memory, on one core.

Each size trains in a process of its own (`python -m bench.training ROWS CATEGORIES`), so that its peak
resident memory is the training's own: the examples (as `outlay train` holds them after reading the
books) and the fit. The examples are synthetic but shaped like a card ledger: merchants with a usual
category and exceptions, teams under parent teams, cost centres within teams, MCCs, amounts, two years
of days. Then `outlay train` itself on the large benchmark company (1.7 M expenses; it learns from the
newest 300,000).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from tools.categorize import learn
from tools.categorize.features import ExpenseFacts
from tools.categorize.pipeline import Thresholds

MAX_ROWS = learn.Settings().max_rows
SIZES = ((10_000, 50), (30_000, 150), (100_000, 150), (300_000, 150))
QUICK_SIZES = ((10_000, 50), (100_000, 150))
MCCS = ("5411", "5812", "4121", "5942", "5541", "7011", "4511", "5999", "7399", "5732")


def examples(rows: int, classes: int, seed: int = 7) -> list[learn.Example]:
    """A ledger of `rows` expenses over `classes` categories (module docstring)."""
    rng = random.Random(seed)
    merchants = max(20, rows // 15)
    teams = [(f"Team {t}", f"Division {t % 6}") for t in range(30)]
    usual = [min(classes - 1, int(rng.paretovariate(1.2)) - 1) for _ in range(merchants)]
    start = dt.date(2024, 1, 1)
    found = []
    for n in range(rows):
        m = (
            min(merchants - 1, int(rng.paretovariate(0.8)) - 1)
            if rng.random() < 0.7
            else rng.randrange(merchants)
        )
        team, division = teams[(m + rng.randrange(3)) % len(teams)]
        code = usual[m] if rng.random() < 0.7 else rng.randrange(classes)
        facts = ExpenseFacts(
            descriptor=f"MERCHANT {m} STORE {rng.randrange(999)}",
            merchant=f"Merchant {m}",
            mcc=MCCS[m % len(MCCS)],
            amount=round(rng.lognormvariate(3.5, 1.2), 2),
            team=team,
            parents=(division,),
            cost_center=f"CC{(m * 7 + rng.randrange(2)) % 400:03d}",
        )
        found.append(
            learn.Example(facts, f"CAT-{code:03d}", start + dt.timedelta(days=n * 730 // rows), f"S-{n}")
        )
    return found


def one(rows: int, classes: int) -> dict[str, Any]:
    """Train on one synthetic size in this process: seconds, CPU seconds, peak RSS (whole process)."""
    items = examples(rows, classes)
    started, cpu = time.perf_counter(), time.process_time()
    with threadpool_limits(limits=1):
        trained = learn.train(items, {}, Thresholds(0.8, 0.95))
    return {
        "rows": rows,
        "classes": classes,
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "holdout_accuracy": trained.metrics.get("holdout", {}).get("accuracy"),
    }


def curve(quick: bool) -> list[dict[str, Any]]:
    """Every size, each in a child process."""
    found = []
    for rows, classes in QUICK_SIZES if quick else SIZES:
        child = subprocess.run(
            [sys.executable, "-m", "bench.training", str(rows), str(classes)],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ | {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
            cwd=Path(__file__).parents[1],
        )
        found.append(json.loads(child.stdout))
    return found


def outlay_train(url: str, company: str) -> dict[str, Any]:
    """`outlay train --no-serve` on a loaded company, as an operator runs it: wall seconds, peak RSS."""
    env = os.environ | {"OUTLAY_DATABASE_URL": url, "OUTLAY_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "train", "--company", company, "--no-serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"outlay train failed: {errors.read().decode()[-2000:]}")
    return {"seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def render(report: dict[str, Any]) -> str:
    lines = [
        "# Categorizer training curve (one core; synthetic ledger shapes; peak RSS of the process)",
        "",
        "| expenses | categories | seconds | CPU seconds | peak RSS MB | holdout accuracy |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in report["curve"]:
        accuracy = f"{row['holdout_accuracy']:.1%}" if row["holdout_accuracy"] is not None else "-"
        lines.append(
            f"| {row['rows']:,} | {row['classes']} | {row['seconds']} | {row['cpu_seconds']} | "
            f"{row['peak_rss_mb']} | {accuracy} |"
        )
    if large := report.get("outlay_train_large"):
        lines += [
            "",
            f"`outlay train` on the large company ({large['expenses']:,} expenses, the newest "
            f"{large['learned_from']:,} learned from): {large['seconds']} s, "
            f"peak RSS {large['peak_rss_mb']} MB.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(json.dumps(one(int(sys.argv[1]), int(sys.argv[2]))))
