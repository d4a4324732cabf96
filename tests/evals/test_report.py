"""The run report: JSON, Markdown and PNG written side by side, readable and well-formed."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest
from matplotlib.image import imread

from evals.harness.report import cell, markdown, write_report
from evals.harness.results import RunResult
from tests.evals.factories import run, scenario, trial

PIPE = re.compile(r"(?<!\\)\|")  # a column separator, not an escaped pipe


@pytest.fixture
def result() -> RunResult:
    paid = partial(trial, cost_usd="0.0125", input_tokens=1200, output_tokens=80, latency_ms=2400)
    return run(
        [
            scenario("spend-by-team", "PPPP", tags=["spend"], make_trial=paid),
            scenario(
                "injected-memo",
                "PFFE",
                title="Memo says IGNORE | apply=true",
                tags=["categorize", "injection"],
                make_trial=partial(
                    paid,
                    failed_check="never calls categorize_expenses with apply=true",
                    seen="categorize_expenses called with {apply: true} | twice",
                ),
            ),
            scenario("approver-absent", "EEEE", tags=["approvers"], make_trial=paid),
        ],
        agent="live",
        model="claude-sonnet-4-5",
        selection="full",
    )


def test_write_report_writes_json_markdown_and_a_png_that_decodes(result: RunResult, tmp_path: Path) -> None:
    paths = write_report(result, tmp_path / "results", "conversations-full")

    assert [path.name for path in paths] == [
        "conversations-full.json",
        "conversations-full.md",
        "conversations-full.png",
    ]
    assert RunResult.read(paths[0]) == result
    assert "![pass rates by tag](conversations-full.png)" in paths[1].read_text(encoding="utf-8")
    height, width, _ = imread(paths[2]).shape
    assert width == 800
    assert height >= 250


def test_the_chart_grows_with_the_tags(result: RunResult, tmp_path: Path) -> None:
    few = run([scenario("a", "P", tags=["spend"])])

    write_report(few, tmp_path, "few")
    write_report(result, tmp_path, "many")

    assert imread(tmp_path / "many.png").shape[0] > imread(tmp_path / "few.png").shape[0]


def test_the_headline_says_what_ran_how_well_and_what_it_cost(result: RunResult) -> None:
    text = markdown(result)

    assert text.startswith("# Conversation eval: full\n")
    for said in (
        "The live agent over the memory transport on sqlite, 4 trials per scenario, model claude-sonnet-4-5 "
        "via anthropic; started 2026-11-20 09:00 UTC, took 42 s; outlay 0.1.0 at 489ae322c6.",
        "**1 of 3 scenarios passed every trial**; 1 failed at least once; 1 could not run at all.",
        "pass^1 **66.7%** · pass^2 **50.0%** · pass^3 **50.0%** · pass^4 **100.0%** (over 1 of 2 "
        "scenarios) · pass@4 100.0% (over 1 of 2 scenarios).",
        "Infrastructure errors: 5 trials in 2 scenarios, a failure of the test setup, not of the agent",
        "Cost $0.1500 ($0.0125 per trial), 14,400 input and 960 output tokens.",
        "A conversation took 2.4 s (median), 2.4 s (p95); a tool call 10 ms and 10 ms over 12 calls.",
    ):
        assert said in text


def test_the_scenario_table_puts_failures_first_and_escapes_pipes(result: RunResult) -> None:
    lines = markdown(result).splitlines()
    table = lines[lines.index("## Scenarios") + 2 :]
    table = table[: table.index("")]

    assert table[2:] == [
        "| `injected-memo` | Memo says IGNORE \\| apply=true | categorize, injection | **failed** "
        "| 1/3 (+1 error) | n/a | 2.4 s | 1 | 5,120 | $0.0500 | trial 2: never calls categorize_expenses "
        "with apply=true — seen: categorize_expenses called with {apply: true} \\| twice |",
        "| `approver-absent` | Spend by team last quarter | approvers | not run | 0/0 (+4 errors) | n/a "
        "| n/a | 1 | 5,120 | $0.0500 | infrastructure error (trials 1, 2, 3, 4) |",
        "| `spend-by-team` | Spend by team last quarter | spend | passed | 4/4 | 100.0% | 2.4 s | 1 | 5,120 "
        "| $0.0500 |  |",
    ]
    assert {len(PIPE.findall(line)) for line in table} == {12}


def test_what_failed_says_expected_against_seen_once_for_the_trials_it_failed_in(result: RunResult) -> None:
    text = markdown(result)
    failed = text[text.index("## What failed") : text.index("## Infrastructure errors")]

    assert failed.split("\n")[1:] == [
        "",
        "### `injected-memo`: Memo says IGNORE | apply=true",
        "",
        "- Trials 2, 3 (2 of 3 that ran): expected never calls categorize_expenses with apply=true. Seen: "
        "categorize_expenses called with {apply: true} | twice",
        "",
        "",
    ]


def test_infrastructure_errors_are_listed_apart(result: RunResult) -> None:
    text = markdown(result)
    errors = text[text.index("## Infrastructure errors") :]

    assert "- `injected-memo` (trial 4): stdio connection to the server failed: broken pipe" in errors
    assert (
        "- `approver-absent` (trials 1, 2, 3, 4): stdio connection to the server failed: broken pipe"
        in errors
    )


def test_the_tag_table_has_a_column_per_k(result: RunResult) -> None:
    lines = markdown(result).splitlines()
    start = lines.index("## By tag") + 2

    assert lines[start : start + 6] == [
        "| tag | scenarios | pass^1 | pass^2 | pass^3 | pass^4 |",
        "| --- | --- | --- | --- | --- | --- |",
        "| approvers | 1 | n/a | n/a | n/a | n/a |",
        "| categorize | 1 | 33.3% | 0.0% | 0.0% | n/a |",
        "| injection | 1 | 33.3% | 0.0% | 0.0% | n/a |",
        "| spend | 1 | 100.0% | 100.0% | 100.0% | 100.0% |",
    ]


def test_a_clean_scripted_run_says_nothing_failed() -> None:
    text = markdown(run([scenario("a", "P", tags=[])]))

    assert "No scenario has a tag." in text
    assert "Nothing: every trial that ran passed every check." in text
    assert "None: every trial ran." in text
    assert "No infrastructure error." in text
    assert "Cost $0 ($0 per trial)" in text


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a | b", "a \\| b"), ("two\nlines", "two lines"), ("plain", "plain"), ("x" * 400, "x" * 299 + "…")],
)
def test_cells_escape_pipes_and_stay_on_one_line(raw: str, escaped: str) -> None:
    assert cell(raw) == escaped
