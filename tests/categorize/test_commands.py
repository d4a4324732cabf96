"""The categorizer's commands as a person runs them: import trains, train, model list/use, eval."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.transports.conftest import OUTLAY, server_env


def outlay(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OUTLAY, *args], env=server_env(url), capture_output=True, text=True, timeout=300, check=False
    )


def test_import_trains_then_versions_are_trained_listed_switched_and_evaluated(
    demo_folder: Path, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}"
    assert outlay("db", "upgrade", url=url).returncode == 0

    imported = outlay("import", str(demo_folder), url=url)
    trained = outlay("train", "--no-serve", url=url)
    listed = outlay("model", "list", url=url)
    switched = outlay("model", "use", "2", url=url)
    unknown = outlay("model", "use", "9", url=url)
    key = demo_folder / "answer_key.csv"
    evaluated = outlay("eval", "categorize", "--answer-key", str(key), "--out", str(tmp_path), url=url)

    assert imported.returncode == 0, imported.stderr
    assert "acme: trained categorizer v1 on " in imported.stderr
    assert "; serving." in imported.stderr
    assert trained.returncode == 0, trained.stderr
    assert "trained categorizer v2" in trained.stderr
    assert "not serving (`outlay model use` to serve it)" in trained.stderr
    assert [line[:4] for line in listed.stdout.splitlines()] == ["* v1", "  v2"]
    assert switched.stderr == "acme: categorizer v2 is now serving.\n"
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "outlay: acme has no categorizer version 9; `outlay model list` lists them\n",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.startswith("# Categorizer eval: acme")
    report = json.loads((tmp_path / "categorize-acme.json").read_text())
    assert report["books"]["count"] == report["split"]["holdout_rows"] > 0
    assert set(report["answer_key"]) >= {"accuracy", "ece", "auto_apply", "books_agree_with_key"}
    assert (tmp_path / "categorize-acme.md").read_text() == evaluated.stdout
