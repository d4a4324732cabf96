"""Run scenarios: for every scenario and trial, a fresh database, a server over the chosen transport, an
agent holding the conversation, and the checks scored on what happened. Infrastructure failures (the
fixture, the server, the model provider) are caught per trial and reported apart from agent failures.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import anyio
from mcp import Client, MCPError

from evals.harness.agents import Agent, ReferenceBroken
from evals.harness.fixtures import FixtureDatabases, fixture_named
from evals.harness.metrics import scenario_result, summarize
from evals.harness.probe import DatabaseProbe
from evals.harness.results import CallSummary, CheckResult, Outcome, RunInfo, RunResult, TrialResult
from evals.harness.scenario import Scenario
from evals.harness.scoring import score
from evals.harness.sessions import ServerTarget, ToolSession, Transport, open_client
from evals.harness.transcript import InfrastructureError, Transcript

log = logging.getLogger("outlay.evals")

# How long one conversation may take before it counts as an infrastructure failure (a hung server).
TRIAL_SECONDS = 300


@dataclass(frozen=True)
class RunOptions:
    transport: Transport = Transport.MEMORY
    trials: int = 1
    concurrency: int = 4  # trials held at the same time
    selection: str = "all"  # what was asked for, for the results file
    model: str | None = None
    provider: str | None = None


async def run_scenarios(
    scenarios: Sequence[Scenario],
    agent: Agent,
    databases: FixtureDatabases,
    options: RunOptions,
    *,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    started = dt.datetime.now(dt.UTC)
    trials: dict[str, list[TrialResult]] = {scenario.id: [] for scenario in scenarios}
    limiter = anyio.CapacityLimiter(max(1, options.concurrency))

    async def one(scenario: Scenario, trial: int) -> None:
        async with limiter:
            result = await run_trial(scenario, trial, agent, databases, options.transport)
        trials[scenario.id].append(result)
        if progress:
            progress(_progress_line(scenario, result))

    async with anyio.create_task_group() as group:
        for scenario in scenarios:
            for trial in range(options.trials):
                group.start_soon(one, scenario, trial)
    results = [
        scenario_result(
            scenario.id, scenario.title, scenario.tags, sorted(trials[scenario.id], key=lambda t: t.trial)
        )
        for scenario in scenarios
    ]
    info = RunInfo(
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        agent=agent.kind,
        transport=options.transport.value,
        backend=databases.backend,
        trials=options.trials,
        selection=options.selection,
        model=options.model,
        provider=options.provider,
        outlay_version=version("outlay"),
        git_commit=_git_commit(),
    )
    return RunResult(run=info, summary=summarize(results, options.trials), scenarios=results)


async def run_trial(
    scenario: Scenario, trial: int, agent: Agent, databases: FixtureDatabases, transport: Transport
) -> TrialResult:
    transcript = Transcript()
    started = time.perf_counter()
    url: str | None = None
    try:
        url = await databases.trial_copy(scenario.fixture, scenario.today)
        slug = fixture_named(scenario.fixture).slug
        async with DatabaseProbe.open(url, slug) as probe:
            before = await probe.fingerprint()
            started = time.perf_counter()  # the conversation's time: server start, session and agent
            checks = await _converse(
                scenario, trial, agent, ServerTarget(url, slug, scenario.today), transport, transcript
            )
            latency_ms = (time.perf_counter() - started) * 1000
            checks += await score(scenario, transcript, probe, before)
        outcome = Outcome.PASSED if all(check.passed for check in checks) else Outcome.FAILED
        return _trial(trial, outcome, transcript, latency_ms, checks=checks)
    except InfrastructureError as exc:
        return _trial(trial, Outcome.ERROR, transcript, _since(started), error=str(exc))
    except (MCPError, OSError, TimeoutError) as exc:
        # The session broke (a server crash, a dropped connection): nothing the agent did.
        return _trial(trial, Outcome.ERROR, transcript, _since(started), error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a harness bug must not end the other trials: reported, with its type
        log.exception("trial %s/%d crashed", scenario.id, trial)
        return _trial(
            trial, Outcome.ERROR, transcript, _since(started), error=f"harness: {type(exc).__name__}: {exc}"
        )
    finally:
        if url is not None:
            with anyio.CancelScope(shield=True):
                await databases.discard(url)


async def _converse(
    scenario: Scenario,
    trial: int,
    agent: Agent,
    target: ServerTarget,
    transport: Transport,
    transcript: Transcript,
) -> list[CheckResult]:
    """Hold the conversation; a broken reference step is the one agent failure raised, not scored."""
    try:
        with anyio.fail_after(TRIAL_SECONDS):
            first, confirm = scenario.user.speaker(0), scenario.user.confirm_writes
            async with open_client(target, transport, confirm, first) as client, AsyncExitStack() as others:

                async def connect(user: str | None) -> Client:
                    return await others.enter_async_context(open_client(target, transport, confirm, user))

                tools = ToolSession(client, transcript, user=first, connect=connect)
                try:
                    scenario = await _started_from_prompt(scenario, tools)
                except MCPError as exc:
                    prompt = scenario.user.prompt.name if scenario.user.prompt else ""
                    return [CheckResult(check=f"the prompt {prompt} renders", passed=False, detail=str(exc))]
                try:
                    await agent.converse(scenario, tools, transcript, trial)
                except ReferenceBroken as broken:
                    return [
                        CheckResult(
                            check="the reference calls can be made as written",
                            passed=False,
                            detail=str(broken),
                        )
                    ]
    except BaseExceptionGroup as group:
        # The client's task groups wrap whatever the agent raised; one error is reported as itself.
        leaves = _leaves(group)
        if len(leaves) == 1 and isinstance(leaves[0], Exception):
            raise leaves[0] from group
        raise
    return []


async def _started_from_prompt(scenario: Scenario, tools: ToolSession) -> Scenario:
    """The scenario as the agent meets it: a prompt the user picked opens the first message."""
    if scenario.user.prompt is None:
        return scenario
    rendered = await tools.prompt(scenario.user.prompt.name, scenario.user.prompt.arguments)
    turns = [f"{rendered}\n\n{scenario.user.turns[0]}", *scenario.user.turns[1:]]
    return scenario.model_copy(update={"user": scenario.user.model_copy(update={"turns": turns})})


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    return [
        leaf
        for exc in group.exceptions
        for leaf in (_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    ]


def _trial(
    trial: int,
    outcome: Outcome,
    transcript: Transcript,
    latency_ms: float,
    *,
    checks: list[CheckResult] | None = None,
    error: str | None = None,
) -> TrialResult:
    return TrialResult(
        trial=trial,
        outcome=outcome,
        checks=checks or [],
        error=error,
        latency_ms=round(latency_ms, 2),
        calls=[
            CallSummary(
                tool=call.tool,
                arguments=call.arguments,
                is_error=call.is_error,
                latency_ms=round(call.latency_ms, 2),
            )
            for call in transcript.calls
        ],
        final_answer=transcript.final_answer,
        input_tokens=transcript.input_tokens,
        output_tokens=transcript.output_tokens,
        cost_usd=transcript.cost_usd,
        model_calls=transcript.model_calls,
    )


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _progress_line(scenario: Scenario, result: TrialResult) -> str:
    mark = {Outcome.PASSED: "pass", Outcome.FAILED: "FAIL", Outcome.ERROR: "ERROR"}[result.outcome]
    why = ""
    if result.outcome is Outcome.FAILED:
        why = f": {result.failures[0].check}"
    elif result.error:
        why = f": {result.error[:160]}"
    return f"{mark:5} {scenario.id} (trial {result.trial + 1}, {result.latency_ms:.0f} ms){why}"


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 -- git from PATH, like any developer tool
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None
