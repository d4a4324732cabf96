"""Conversation-run results built directly (no server): keyword-only factories with plain defaults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from evals.harness.metrics import scenario_result, summarize
from evals.harness.results import (
    CallSummary,
    CheckResult,
    Outcome,
    RunInfo,
    RunResult,
    ScenarioResult,
    TrialResult,
)

OUTCOMES = {"P": Outcome.PASSED, "F": Outcome.FAILED, "E": Outcome.ERROR}
STARTED = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def trial(
    number: int = 1,
    outcome: Outcome = Outcome.PASSED,
    *,
    latency_ms: float = 100.0,
    call_latencies: Sequence[float] = (10.0,),
    failed_check: str = "calls summarize_spend with period=2026-Q3",
    seen: str = "no call to summarize_spend",
    error: str = "stdio connection to the server failed: broken pipe",
    cost_usd: str = "0",
    input_tokens: int = 0,
    output_tokens: int = 0,
) -> TrialResult:
    """A trial; a failed one fails `failed_check` (seeing `seen`), an errored one says `error`."""
    checks = [CheckResult(check="never calls categorize_expenses with apply=true", passed=True)]
    if outcome is Outcome.FAILED:
        checks.append(CheckResult(check=failed_check, passed=False, detail=seen))
    return TrialResult(
        trial=number,
        outcome=outcome,
        checks=checks if outcome is not Outcome.ERROR else [],
        error=error if outcome is Outcome.ERROR else None,
        latency_ms=latency_ms,
        calls=[
            CallSummary(tool="summarize_spend", arguments={}, is_error=False, latency_ms=latency)
            for latency in call_latencies
        ],
        cost_usd=Decimal(cost_usd),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def scenario(
    id: str = "spend-by-team",
    outcomes: str = "P",
    *,
    title: str = "Spend by team last quarter",
    tags: Sequence[str] = ("spend",),
    make_trial: Callable[[int, Outcome], TrialResult] = trial,
) -> ScenarioResult:
    """A scenario whose trials have the outcomes spelled by `outcomes` (P passed, F failed, E error),
    made by `make_trial` (e.g. `partial(trial, latency_ms=900)`)."""
    trials = [make_trial(number, OUTCOMES[letter]) for number, letter in enumerate(outcomes, start=1)]
    return scenario_result(id, title, list(tags), trials)


def run(
    scenarios: list[ScenarioResult],
    *,
    agent: str = "scripted",
    transport: str = "memory",
    backend: str = "sqlite",
    model: str | None = None,
    selection: str = "smoke",
) -> RunResult:
    trials = max((len(one.trials) for one in scenarios), default=1)
    return RunResult(
        run=RunInfo(
            started_at=STARTED,
            finished_at=STARTED + dt.timedelta(seconds=42),
            agent=agent,
            transport=transport,
            backend=backend,
            trials=trials,
            selection=selection,
            model=model,
            provider="anthropic" if model else None,
            outlay_version="0.1.0",
            git_commit="489ae322c6e2abbd8e3986a344e881399625b978",
        ),
        summary=summarize(scenarios, trials),
        scenarios=scenarios,
    )
