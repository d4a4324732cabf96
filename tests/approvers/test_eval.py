"""`outlay eval approvers`: the replay's scores on Northwind (worked out by hand), and the command on a
small demo company, whose history the demo generates under the engine's rules."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from evals import approvers
from server.demo import write_demo_company
from server.settings import Settings
from tests.approvers.conftest import import_folder
from tests.transports.conftest import server_env
from tests.transports.test_cli import run_outlay


def test_the_replay_scores_northwinds_history(northwind_url: str) -> None:
    report = asyncio.run(approvers.run(Settings(database_url=northwind_url), latency_calls=4))

    # R-1 is Platform's first large request: nothing to rank finance by yet, Ada comes first by e-mail
    # where Ben decided; R-2 then goes to Ben, R-3 (Sales) to Ada. R-4 is pending: its decision counts.
    assert {key: report[key] for key in ("requests", "approved_requests", "decisions")} == {
        "requests": 4,
        "approved_requests": 3,
        "decisions": 9,
    }
    assert (report["exact_chain_match"], report["per_step_match"]) == (round(2 / 3, 4), round(8 / 9, 4))
    assert report["exact_chain_match_policy_only"] == round(1 / 3, 4)  # without history: Ada, R-3 only
    assert (report["policy_violations"], report["incomplete_chains"]) == (0, 0)
    assert report["controls"] == {
        "no_approval_from_below": True,
        "delegate_covers_own_step_only": True,
        "min_distinct_approvers": {},
    }
    assert report["by_requirement"]["finance_team"] == {"steps": 3, "match": round(2 / 3, 4)}
    assert report["mismatches"] == [
        {
            "request": "R-1",
            "team": "Platform",
            "category": "HARDWARE",
            "amount": "6000.00 EUR",
            "decided_by": ["Tara Tech", "Clara Chief", "Ben Ledger"],
            "engine": ["Tara Tech", "Clara Chief", "Ada Ledger"],
        }
    ]
    assert (report["latency"]["calls"], report["latency"]["errors"]) == (4, 0)


@pytest.fixture(scope="module")
def small_demo(make_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("demo") / "acme"
    write_demo_company(folder, employees=60, months=8, today=dt.date(2026, 5, 14))
    url = make_database("sqlite")
    asyncio.run(import_folder(url, folder))
    return url


def test_the_command_writes_json_and_markdown_and_finds_no_violation(small_demo: str, tmp_path: Path) -> None:
    result = run_outlay(
        "eval", "approvers", "--out", str(tmp_path), "--latency-calls", "6", env=server_env(small_demo)
    )

    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "approvers-acme.json").read_text())
    assert report["policy_violations"] == 0
    assert report["approved_requests"] > 20
    assert report["exact_chain_match"] >= 0.9
    assert report["by_requirement"]["team_manager"]["match"] == 1.0
    markdown = (tmp_path / "approvers-acme.md").read_text()
    assert markdown == result.stdout
    assert "| policy violations (must be 0) | 0 |" in markdown
    assert (
        "| controls on | no_approval_from_below, delegate_covers_own_step_only, 3 signers (Over 5,000 EUR: "
        "second level and finance) |" in markdown
    )
