"""Committed recordings of live runs (evals/recordings/<name>/) replayed as CI checks: no key, no network."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from evals.harness.loading import SCENARIOS
from tests.transports.conftest import OUTLAY

RECORDINGS = SCENARIOS.parent / "recordings"
RUNS = sorted(path for path in RECORDINGS.iterdir() if path.is_dir()) if RECORDINGS.is_dir() else []


@pytest.mark.parametrize("recorded", RUNS, ids=[path.name for path in RUNS])
def test_a_recorded_live_run_still_replays_and_passes(recorded: Path, tmp_path: Path) -> None:
    scenario_ids = sorted(path.name for path in recorded.iterdir() if path.is_dir())
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OUTLAY_")}
    ids = [argument for scenario in scenario_ids for argument in ("--id", scenario)]
    done = subprocess.run(
        [
            OUTLAY,
            "eval",
            "run",
            "--agent",
            "replay",
            "--recordings",
            str(recorded),
            "--out",
            str(tmp_path),
            *ids,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=clean,
    )
    assert done.returncode == 0, done.stderr[-3000:]
