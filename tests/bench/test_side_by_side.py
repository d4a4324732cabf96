"""The side-by-side bench on a tiny demo company: every system gives the raw SQL's answer, and an answer
that differs is reported as a mismatch (the comparison can fail)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bench import layers, memory
from bench.questions import Question, totals_from_rows, totals_from_tool
from bench.side_by_side import System, compare, measure_question, render

pytestmark = pytest.mark.anyio

TODAY = dt.date(2026, 11, 15)
OURS = ("raw", "bare sql", "stdio@here", "stdio", "http", "in-memory")  # and the floor of the SDK
QUESTIONS = 10
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_url(make_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory) -> str:
    url = make_database("postgresql")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLAY_")}
    env |= {"OUTLAY_DATABASE_URL": url, "OUTLAY_TODAY": TODAY.isoformat(), "OUTLAY_LOG_LEVEL": "WARNING"}
    outlay = str(Path(sys.executable).with_name("outlay"))
    demo = ["demo", "--employees", "20", "--months", "3", "--out", str(tmp_path_factory.mktemp("demo"))]
    subprocess.run([outlay, *demo], env=env, check=True, capture_output=True)
    return url


async def test_every_system_gives_the_raw_sql_answer(demo_url: str) -> None:
    # This checkout as a baseline: the same server spawned with PYTHONPATH, interleaved like the others.
    result = await compare(demo_url, today=TODAY, calls=3, baselines={"here": str(ROOT)})

    matched = {
        (row["question"], name): row["systems"][name]["matched"]
        for row in result["questions"]
        for name in OURS
    }
    assert matched == dict.fromkeys(matched, True)
    assert len(result["questions"]) == QUESTIONS
    assert all(row["systems"]["tenant floor"]["p50_ms"] > 0 for row in result["questions"])
    for system in ("bare", "bare sql", "stdio@here", "stdio", "http"):  # the spawned servers' CPU, from /proc
        assert all(row["systems"][system]["cpu_ms_per_call"] is not None for row in result["questions"])
    assert all(row["systems"]["bare"]["errors"] == 0 for row in result["questions"])
    assert all(set(row["ratios"]["ours_over_baselines"]) == {"stdio@here"} for row in result["questions"])
    assert "Every answer matched." in render(result)
    if result["generic"]["status"] != "ran":
        pytest.skip(f"generic PostgreSQL MCP server: {result['generic']['reason']}")
    assert [row["systems"]["generic"]["matched"] for row in result["questions"]] == [True] * QUESTIONS


async def test_the_layers_of_our_cpu_add_up_beside_the_bare_servers(demo_url: str) -> None:
    asked = await layers.asked(demo_url, ["get_expense by"])

    [row] = await layers.measure(demo_url, asked, calls=10)

    assert set(row["layers_ms"]) == set(layers.LAYERS)  # the SDK's: the process's CPU the others left
    assert sum(row["layers_ms"].values()) >= row["cpu_ms_per_call"] - 0.01
    assert row["layers_ms"]["tenancy (role + RLS setup)"] > 0
    assert row["layers_ms"]["audit"] > 0
    assert row["bare_cpu_ms_per_call"] > 0
    assert "| get_expense by ref |" in layers.render([row])


async def test_the_resident_set_is_read_after_every_step(demo_url: str) -> None:
    result = await memory.measure(demo_url, {"here": str(ROOT)})

    assert set(result["rss_mb"]) == {"ours", "here"}
    for steps in result["rss_mb"].values():
        assert list(steps) == list(memory.STEPS)
        assert all(mb > 0 for mb in steps.values())
    assert "| ours |" in memory.render(result)


def _question() -> Question:
    return Question(
        name="spend by category",
        tool="summarize_spend",
        arguments={},
        sql="SELECT ...",
        from_tool=totals_from_tool,
        from_rows=totals_from_rows("EUR"),
    )


def _returning(payload: Any) -> Callable[[Question], Awaitable[Any]]:
    async def call(_: Question) -> Any:
        return payload

    return call


def _system(name: str, payload: Any, answer: Callable[[Question, Any], Any]) -> System:
    return System(name, _returning(payload), answer)


def _systems(rows: list[dict[str, Any]], tool_content: dict[str, Any]) -> list[System]:
    """Raw SQL giving `rows`, its floors, and our stdio server giving `tool_content`."""
    return [
        _system("raw", rows, lambda question, payload: question.from_rows(payload)),
        System("floor", _returning(None), None),
        System("tenant floor", _returning(None), None),
        _system("stdio", tool_content, lambda question, payload: question.from_tool(payload)),
    ]


async def test_a_wrong_answer_is_reported_as_a_mismatch() -> None:
    rows: list[dict[str, Any]] = [
        {"key": "TRAVEL", "total_minor": 12345, "n": 2},
        {"key": None, "total_minor": "-100", "n": "1"},
    ]
    wrong = {
        "groups": [
            {"key": "TRAVEL", "total": "123.46", "count": 2},
            {"key": None, "total": "-1.00", "count": 1},
        ]
    }

    row = await measure_question(_question(), _systems(rows, wrong), calls=2)

    assert row["systems"]["raw"]["matched"] is True
    assert row["systems"]["stdio"]["matched"] is False
    assert row["systems"]["stdio"]["mismatches"] == 2
    assert "answer differs" in row["systems"]["stdio"]["problem"]
    assert "123.46" in row["systems"]["stdio"]["problem"]


async def test_the_same_answer_in_other_shapes_matches() -> None:
    rows = [{"key": "TRAVEL", "total_minor": 12345, "n": 2}]
    same = {"groups": [{"key": "TRAVEL", "total": "123.45", "count": 2}], "others": None}

    row = await measure_question(_question(), _systems(rows, same), calls=2)

    assert row["systems"]["stdio"]["matched"] is True
    assert row["systems"]["stdio"]["problem"] is None
