"""evals/scenarios/review.yaml: the scripted review conversations pass on both backends, on the demo
company whose planted cases they name."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.harness.agents import ScriptedAgent
from evals.harness.fixtures import FixtureDatabases
from evals.harness.loading import SCENARIOS, load_scenarios, select
from evals.harness.runner import RunOptions, run_scenarios
from server.demo.review_cases import ANSWERS, read_key
from tests.evals.test_conversations import failed_scenarios, fixture_templates

pytestmark = pytest.mark.anyio
TODAY = dt.date(2026, 11, 20)
REVIEW = SCENARIOS / "review.yaml"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str | None, dict[tuple[str, dt.date], str]]]:
    """The demo fixture's template database, once per backend."""
    yield from fixture_templates("demo", request, tmp_path_factory)


def test_the_review_scenarios_name_planted_cases(tmp_path: Path) -> None:
    """Every expense ref the scenarios check is one the demo fixture plants (so they test the review,
    not the demo's accidents)."""
    from evals.harness.fixtures import FIXTURES

    FIXTURES["demo"].write(tmp_path, TODAY)
    planted = {
        ref for origin, case in read_key(tmp_path / ANSWERS) if origin == "injected" for ref in case.refs
    }
    text = REVIEW.read_text(encoding="utf-8")
    named = set(re.findall(r"EXP-\d{6}", text))
    assert named
    assert named <= planted


async def test_the_review_scenarios_pass(
    demo: tuple[str | None, dict[tuple[str, dt.date], str]], tmp_path: Path
) -> None:
    scenarios = select(load_scenarios([SCENARIOS]), tags=["review"])
    assert {s.id for s in scenarios} == {
        "review-cash-on-the-card",
        "review-one-expense-twice",
        "review-policy-review-prompt",
        "review-nothing-to-review",
        "review-unknown-team",
    }
    postgres, built = demo
    databases = FixtureDatabases(tmp_path, postgres, templates=built)
    try:
        result = await run_scenarios(scenarios, ScriptedAgent(), databases, RunOptions())
    finally:
        await databases.close()
    assert not failed_scenarios(result)
