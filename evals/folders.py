"""Where eval runs write. By default into var/evals/, which git ignores, so that trying a command from the
README leaves the committed reports alone; `--out evals/results` (COMMITTED) updates those on purpose.
Nothing but paths here: the command line imports it at start-up."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "var" / "evals"
COMMITTED = Path(__file__).resolve().parent / "results"
