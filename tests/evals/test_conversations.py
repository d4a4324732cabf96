"""The conversation harness end to end: scenarios through real MCP sessions on both backends, the smoke
suite (what `make test` runs), scenarios that must fail failing, infrastructure errors reported apart,
every transport, and the `outlay eval` command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from evals.datasets.meridian import MeridianFacts, write_meridian_company
from evals.folders import COMMITTED, RESULTS
from evals.harness.agents import ScriptedAgent
from evals.harness.fixtures import FixtureDatabases
from evals.harness.loading import SCENARIOS, ScenarioError, load_scenarios, select
from evals.harness.results import Outcome, RunResult
from evals.harness.runner import RunOptions, run_scenarios
from evals.harness.scenario import Scenario
from evals.harness.sessions import Transport
from server.fakes.anthropic import FakeAnthropic
from server.fakes.loopback import serve_on_loopback
from server.fakes.script import Behaviour, Blocks, Recorded, TextAnswer, UseTool
from tests.conftest import POSTGRES_URL, _postgres_or_skip
from tests.transports.conftest import OUTLAY

pytestmark = pytest.mark.anyio
TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> MeridianFacts:
    return write_meridian_company(tmp_path_factory.mktemp("meridian"), today=TODAY)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def templates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str | None, dict[tuple[str, dt.date], str]]]:
    """Meridian's template database, built once per backend and module (what the runner copies)."""
    yield from fixture_templates("meridian", request, tmp_path_factory)


def fixture_templates(
    fixture: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str | None, dict[tuple[str, dt.date], str]]]:
    """A harness fixture's template database on the backend `request.param` names, closed after."""
    postgres = None
    if request.param == "postgresql":
        _postgres_or_skip()
        postgres = POSTGRES_URL
    databases = FixtureDatabases(tmp_path_factory.mktemp("templates"), postgres)
    asyncio.run(databases.template(fixture, TODAY))
    yield postgres, databases.templates
    asyncio.run(databases.close())


async def run(
    scenarios: list[Scenario],
    templates: tuple[str | None, dict[tuple[str, dt.date], str]],
    workdir: Path,
    transport: Transport = Transport.MEMORY,
) -> RunResult:
    postgres, built = templates
    databases = FixtureDatabases(workdir, postgres, templates=built)
    try:
        return await run_scenarios(scenarios, ScriptedAgent(), databases, RunOptions(transport=transport))
    finally:
        await databases.close()


def scenario(facts: MeridianFacts, **changes: object) -> Scenario:
    """Marketing's spend last quarter, right unless `changes` say otherwise."""
    total = facts.spend(facts.last_quarter, team="Marketing").amount
    raw: dict[str, object] = {
        "id": "marketing-last-quarter",
        "title": "Marketing's spend last quarter",
        "tags": ["spend"],
        "fixture": "meridian",
        "today": TODAY,
        "user": {"turns": ["How much did Marketing spend last quarter?"]},
        "reference": [
            {
                "calls": [
                    {
                        "tool": "summarize_spend",
                        "arguments": {"team": "Marketing", "period": facts.last_quarter},
                        "as": "spend",
                    }
                ],
                "answer": f"Marketing spent {total} EUR in {facts.last_quarter}.",
            }
        ],
        "expect": {
            "calls": [{"tool": "summarize_spend", "arguments": {"team": "marketing"}}],
            "results": [{"call": "spend", "checks": {"$.total": total}}],
            "answer": {"contains": [total]},
            "database_unchanged": True,
        },
    }
    raw.update(changes)
    return Scenario.model_validate(raw)


def failed_scenarios(result: RunResult) -> dict[str, list[str]]:
    """Each scenario that failed a trial, with its failed checks and errors."""
    return {
        s.id: [f"{c.check}: {c.detail}" for t in s.trials for c in t.failures]
        + [str(t.error) for t in s.trials]
        for s in result.scenarios
        if s.successes < len(s.trials)
    }


async def test_the_smoke_suite_passes(
    templates: tuple[str | None, dict[tuple[str, dt.date], str]], tmp_path: Path
) -> None:
    smoke = select(load_scenarios([SCENARIOS]), tags=["smoke"])
    assert len(smoke) >= 8
    result = await run(smoke, templates, tmp_path)
    assert not failed_scenarios(result)
    assert result.summary.pass_hat_k == {1: 1.0}


async def test_a_right_scenario_passes_and_a_wrong_expectation_fails_saying_what_it_saw(
    templates: tuple[str | None, dict[tuple[str, dt.date], str]], facts: MeridianFacts, tmp_path: Path
) -> None:
    right = scenario(facts)
    wrong = scenario(
        facts,
        id="marketing-wrong-total",
        expect={
            "calls": [{"tool": "summarize_spend", "arguments": {"team": "Sales"}}],
            "forbidden": [{"tool": "summarize_spend", "arguments": {"period": facts.last_quarter}}],
            "results": [{"call": "spend", "checks": {"$.total": "1.00"}}],
            "max_calls": 0,
        },
    )
    result = await run([right, wrong], templates, tmp_path)
    passed, failed = result.scenarios
    assert passed.trials[0].outcome is Outcome.PASSED
    trial = failed.trials[0]
    assert trial.outcome is Outcome.FAILED
    failures = " | ".join(f"{check.check}: {check.detail}" for check in trial.failures)
    assert len(trial.failures) == 4, failures
    assert facts.spend(facts.last_quarter, team="Marketing").amount in failures  # the total it saw
    assert result.summary.failed == 1
    assert result.summary.pass_hat_k == {1: 0.5}


async def test_a_reference_call_that_cannot_be_made_is_a_failure_not_a_crash(
    templates: tuple[str | None, dict[tuple[str, dt.date], str]], facts: MeridianFacts, tmp_path: Path
) -> None:
    broken = scenario(
        facts,
        reference=[
            {
                "calls": [
                    {"tool": "search_expenses", "arguments": {"team": "Nobody", "limit": 1}, "as": "found"},
                    {
                        "tool": "get_expense",
                        "arguments": {"expense_id": {"$from": "found", "path": "$.items[0].ref"}},
                    },
                ],
                "answer": "Here it is.",
            }
        ],
        expect={"calls": [{"tool": "get_expense"}]},
    )
    trial = (await run([broken], templates, tmp_path)).scenarios[0].trials[0]
    assert trial.outcome is Outcome.FAILED
    assert "$.items[0].ref" in trial.failures[0].detail


async def test_infrastructure_errors_are_reported_apart_from_agent_failures(
    facts: MeridianFacts, tmp_path: Path
) -> None:
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/postgres"  # nothing listens on port 1
    result = await run([scenario(facts)], (unreachable, {}), tmp_path)
    trial = result.scenarios[0].trials[0]
    assert trial.outcome is Outcome.ERROR
    assert "PostgreSQL unreachable" in (trial.error or "")
    assert (result.summary.errors, result.summary.failed, result.summary.passed) == (1, 0, 0)
    assert result.scenarios[0].pass_hat_k == {}  # nothing ran: no pass rate, rather than 0


@pytest.mark.parametrize("transport", [Transport.STDIO, Transport.HTTP])
async def test_the_server_as_a_subprocess_over_stdio_and_http(
    templates: tuple[str | None, dict[tuple[str, dt.date], str]],
    facts: MeridianFacts,
    tmp_path: Path,
    transport: Transport,
) -> None:
    if templates[0] is not None:
        pytest.skip("one backend is enough to prove the transport")
    result = await run([scenario(facts)], templates, tmp_path, transport)
    trial = result.scenarios[0].trials[0]
    assert trial.outcome is Outcome.PASSED, trial.failures or trial.error
    assert result.run.transport == transport.value
    assert [call.tool for call in trial.calls] == ["summarize_spend"]


def outlay(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OUTLAY_")}
    return subprocess.run(
        [OUTLAY, "eval", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=clean | (env or {}),
    )


def test_cli_names_the_file_and_line_of_a_bad_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "scenarios:\n  - id: typo\n    title: t\n    fixture: meridian\n    today: 2026-11-20\n"
        "    user: {turns: [hi]}\n    reference: [{answer: hello}]\n"
        "    expect:\n      calls:\n        - tool: summarize_spend\n"
        "          arguments: {team: {$any: [a]}}\n"
    )
    done = outlay("run", str(bad), "--out", str(tmp_path))
    assert done.returncode == 2
    assert f"{bad}:11" in done.stderr
    assert "$any_of" in done.stderr  # the suggestion
    assert not list(tmp_path.glob("*.json"))


def test_cli_runs_reports_and_the_gate_trips_on_a_regression(facts: MeridianFacts, tmp_path: Path) -> None:
    file = tmp_path / "one.yaml"
    raw = scenario(facts).model_dump(mode="json", by_alias=True, exclude_defaults=True)
    file.write_text(yaml.safe_dump({"scenarios": [raw]}))
    done = outlay("run", str(file), "--out", str(tmp_path), "--name", "base", "--quiet")
    assert done.returncode == 0, done.stderr
    assert {path.name for path in tmp_path.glob("base.*")} == {"base.json", "base.md", "base.png"}
    assert "marketing-last-quarter" in (tmp_path / "base.md").read_text()

    regressed = json.loads((tmp_path / "base.json").read_text())
    regressed["scenarios"][0]["trials"][0]["outcome"] = "failed"
    (tmp_path / "regressed.json").write_text(json.dumps(regressed))
    gate = outlay("gate", str(tmp_path / "regressed.json"), "--baseline", str(tmp_path / "base.json"))
    assert gate.returncode == 1
    assert "marketing-last-quarter" in gate.stderr
    assert (
        outlay("gate", str(tmp_path / "base.json"), "--baseline", str(tmp_path / "base.json")).returncode == 0
    )
    missing = outlay("run", str(file), "--out", str(tmp_path), "--baseline", str(tmp_path / "none.json"))
    assert missing.returncode == 2  # refused before running anything
    assert "none.json" in missing.stderr


def test_cli_without_out_writes_to_the_ignored_folder_and_leaves_the_committed_reports(
    facts: MeridianFacts, tmp_path: Path
) -> None:
    file = tmp_path / "one.yaml"
    raw = scenario(facts).model_dump(mode="json", by_alias=True, exclude_defaults=True)
    file.write_text(yaml.safe_dump({"scenarios": [raw]}))
    committed = {path.name: path.stat().st_mtime_ns for path in COMMITTED.iterdir()}
    stem = f"test-default-folder-{uuid.uuid4().hex[:8]}"

    done = outlay("run", str(file), "--name", stem, "--quiet")

    written = sorted(RESULTS.glob(f"{stem}.*"))
    for path in written:
        path.unlink()
    assert done.returncode == 0, done.stderr
    assert [path.name for path in written] == [f"{stem}.json", f"{stem}.md", f"{stem}.png"]
    assert {path.name: path.stat().st_mtime_ns for path in COMMITTED.iterdir()} == committed
    assert RESULTS.relative_to(Path(__file__).parents[2]) == Path("var/evals")
    assert subprocess.run(["git", "check-ignore", "-q", str(RESULTS)], check=False).returncode == 0


def test_cli_live_run_records_and_the_replay_needs_no_model(facts: MeridianFacts, tmp_path: Path) -> None:
    """`--agent live --record` against a fake Claude that picks the tool itself, then `--agent replay`
    with the fake gone: the same calls reach the server and the same checks pass."""
    file = tmp_path / "one.yaml"
    raw = scenario(facts).model_dump(mode="json", by_alias=True, exclude_defaults=True)
    file.write_text(yaml.safe_dump({"scenarios": [raw]}))
    recordings = tmp_path / "recordings"

    def model(request: Recorded) -> Behaviour:
        last = request.json()["messages"][-1]["content"]
        if isinstance(last, str):  # the user's question: look it up
            return Blocks((UseTool("summarize_spend", {"team": "Marketing", "period": facts.last_quarter}),))
        total = json.loads(last[0]["content"].split("(JSON):\n", 1)[1])["total"]
        return TextAnswer(f"Marketing spent {total} EUR in {facts.last_quarter}.")

    fake = FakeAnthropic(model)
    with serve_on_loopback(fake) as url:
        live = outlay(
            "run", str(file), "--agent", "live", "--record", str(recordings), "--out", str(tmp_path),
            env={"OUTLAY_GATEWAY__PROVIDER": "anthropic", "OUTLAY_GATEWAY__BASE_URL": url,
                 "OUTLAY_GATEWAY__ANTHROPIC_API_KEY": "test-key"},
        )  # fmt: skip
    assert live.returncode == 0, live.stderr
    assert len(fake.script.received) == 2
    recorded = RunResult.read(tmp_path / "conversations-live-sqlite.json")
    assert recorded.summary.pass_hat_k == {1: 1.0}
    assert recorded.summary.input_tokens > 0

    replay = outlay(
        "run", str(file), "--agent", "replay", "--recordings", str(recordings), "--out", str(tmp_path)
    )
    assert replay.returncode == 0, replay.stderr
    replayed = RunResult.read(tmp_path / "conversations-replay-sqlite.json")
    assert replayed.run.agent == "replay"
    live_trial, replay_trial = recorded.scenarios[0].trials[0], replayed.scenarios[0].trials[0]
    assert replay_trial.calls[0].arguments == live_trial.calls[0].arguments
    assert replay_trial.final_answer == live_trial.final_answer
    assert replay_trial.input_tokens == live_trial.input_tokens


def test_cli_runs_a_scenario_on_an_import_folder_given_by_path(facts: MeridianFacts, tmp_path: Path) -> None:
    write_meridian_company(tmp_path / "our-company", today=TODAY)
    raw = scenario(facts).model_dump(mode="json", by_alias=True, exclude_defaults=True)
    (tmp_path / "ours.yaml").write_text(yaml.safe_dump({"scenarios": [{**raw, "fixture": "./our-company"}]}))
    done = outlay("run", str(tmp_path / "ours.yaml"), "--out", str(tmp_path), "--quiet")
    assert done.returncode == 0, done.stderr
    (tmp_path / "missing.yaml").write_text(yaml.safe_dump({"scenarios": [{**raw, "fixture": "./nowhere"}]}))
    missing = outlay("run", str(tmp_path / "missing.yaml"), "--out", str(tmp_path))
    assert missing.returncode == 2
    assert "nowhere" in missing.stderr
    assert "import folder" in missing.stderr


def test_an_impossible_date_is_reported_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios:\n  - id: x\n    title: t\n    fixture: meridian\n    today: 2026-02-30\n")
    with pytest.raises(ScenarioError) as raised:
        load_scenarios([bad])
    assert raised.value.problems == [
        f"{bad}:5: day is out of range for month (write a real date, YYYY-MM-DD)"
    ]


async def test_the_example_in_the_docs_runs_and_passes(
    templates: tuple[str | None, dict[tuple[str, dt.date], str]], tmp_path: Path
) -> None:
    docs = (SCENARIOS.parents[1] / "docs" / "evals.md").read_text()
    example = tmp_path / "example.yaml"
    example.write_text(docs.split("```yaml\n", 1)[1].split("```", 1)[0])
    result = await run(load_scenarios([example]), templates, tmp_path)
    trial = result.scenarios[0].trials[0]
    assert trial.outcome is Outcome.PASSED, trial.failures or trial.error


async def test_the_acting_scenarios_file_and_decide_as_each_turns_speaker(
    templates: tuple[str | None, dict[tuple[str, dt.date], str]], tmp_path: Path
) -> None:
    """evals/scenarios/acting.yaml: each turn is said by its person (`user.people`), so a request filed
    by its requester is decided by whom it waits on, and every other caller is refused."""
    acting = select(load_scenarios([SCENARIOS]), tags=["acting"])
    assert {s.id for s in acting} >= {
        "acting-file-decide-decide",
        "acting-refusals",
        "acting-delegate-decides",
    }
    result = await run(acting, templates, tmp_path)
    assert not failed_scenarios(result)


def test_a_speaker_is_named_for_every_turn(facts: MeridianFacts) -> None:
    raw = scenario(facts).model_dump(mode="json", by_alias=True, exclude_defaults=True)
    raw["user"]["people"] = ["nina.park@meridian.test", None]

    with pytest.raises(ValueError, match=r"user.people names 2 speaker\(s\) for 1 turn\(s\)"):
        Scenario.model_validate(raw)
    raw["user"]["people"] = ["nina.park"]
    with pytest.raises(ValueError, match="pattern"):
        Scenario.model_validate(raw)
