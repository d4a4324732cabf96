"""`outlay bench` end to end on a tiny demo company in PostgreSQL: the results files, the throughput runs
over real HTTP, the query plans; and the targets table, which must say "no" when a number misses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.summary import render, targets

OUTLAY = str(Path(sys.executable).with_name("outlay"))


def test_a_quick_run_writes_its_results(make_database: Callable[[str], str], tmp_path: Path) -> None:
    url = make_database("postgresql")
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTLAY_")}
    command = [OUTLAY, "bench", "--quick", "--only", "throughput,scaling", "--database-url", url]
    command += ["--size", "20x3", "--seconds", "0.3", "--clients", "1,4", "--sdk-clients", "2"]
    command += ["--results", str(tmp_path)]

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "latest.json").exists()  # two sections are no summary of every section
    (written,) = tmp_path.glob("bench-*.json")
    report = json.loads(written.read_text())
    assert report["schema"] == "outlay.bench/1"
    assert report["datasets"]["default"]["expenses"] > 100
    runs = report["sections"]["throughput"]["default"]["runs"]
    assert {(run["tool"], run["client"], run["clients"]) for run in runs} == {
        (tool, client, clients)
        for tool in (
            "get_expense",
            "search_expenses",
            "summarize_spend",
            "categorize_expense",
            "suggest_approver",
            "forecast_budget",
        )
        for client, clients in (("wire", 1), ("wire", 4), ("sdk", 2))
    }
    for run in runs:
        assert run["calls"] > 0, run
        assert run["errors"] == 0, run
        assert run["server_cpu_ms_per_call"] > 0, run
        assert run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"], run
    questions = report["sections"]["scaling"]["default"]["questions"]
    assert questions, "no scaling question was asked"
    assert not any(question["error"] for question in questions)
    assert all(question["statements"] >= 1 for question in questions)
    markdown = written.with_suffix(".md").read_text()
    assert "## Targets" in markdown
    assert "≥ 1,000 read calls/s at 32 HTTP clients" not in markdown  # 32 clients were not measured
    assert (tmp_path / f"bench-{report['at']}.json").exists()


def test_an_unknown_section_is_a_usage_error(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTLAY_")}
    command = [OUTLAY, "bench", "--quick", "--only", "nothing"]

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert "--only: unknown section nothing" in done.stderr
    assert "Traceback" not in done.stderr


def _report(
    *, calls_per_s: float, cold_s: float, rss_mb: float, ratios: list[float], overhead: float, grouping: float
) -> Any:
    run = {"tool": "get_expense", "clients": 32, "calls_per_s": calls_per_s, "server_cpu_ms_per_call": 1.0}
    memory = {"after_tools_list": {"rss_mb": rss_mb}}
    side = {
        "spend_ratios": ratios,
        "spend_at_most_half_of_generic": all(r <= 0.5 for r in ratios),
        "grouping_ratios": {"top 20 merchants 2025": grouping},
        "groupings_at_most_half_of_generic": grouping <= 0.5,
        "get_expense_overhead_ms": overhead,
        "get_expense_overhead_at_most_1_5_ms": overhead <= 1.5,
    }
    return {
        "at": "20261128T000000Z",
        "quick": False,
        "today": "2026-11-15",
        "commit": "abc1234",
        "machine": {"cpus": 2, "machine": "x86_64", "python": "3.11", "load_1m": 0.1},
        "datasets": {},
        "errors": {},
        "sections": {
            "throughput": {"default": {"runs": [run]}},
            "startup": {
                "stdio": {"tools_list": {"p50_s": cold_s}, "memory": memory},
                "http": {"memory": memory},
            },
            "side_by_side": {"large": {"targets": side}},
        },
    }


@pytest.mark.parametrize(
    ("report", "met"),
    [
        (
            _report(calls_per_s=1200, cold_s=1.2, rss_mb=150, ratios=[0.3, 0.4], overhead=1.0, grouping=0.1),
            [True] * 6,
        ),
        (
            _report(calls_per_s=900, cold_s=1.6, rss_mb=210, ratios=[0.3, 0.6], overhead=1.6, grouping=0.6),
            [False] * 6,
        ),
    ],
)
def test_the_targets_say_whether_each_number_met_the_issue(report: Any, met: list[bool]) -> None:
    rows = targets(report)

    assert [row["met"] for row in rows] == met
    report["targets"] = rows
    markdown = render({**report, "sections": {}})
    assert markdown.count("**no**") == met.count(False)
