"""The numbers of a conversation run: pass^k and pass@k per scenario, and the run's summary.

- pass^k (tau-bench): the chance that k i.i.d. trials of a scenario all succeed, estimated without bias
  from n trials with s successes as C(s, k) / C(n, k); the run's pass^k is its mean over scenarios.
- pass@k (Codex/HumanEval): the chance that at least one of k trials succeeds, 1 - C(n - s, k) / C(n, k).
- Only trials that ran count (`Outcome.ERROR` is the infrastructure's failure, not the agent's): a
  scenario with 4 trials of which 1 errored is scored on n = 3, and one whose every trial errored has no
  pass rates at all.
- Percentiles are nearest-rank (the smallest value with at least q% of the values at or below it), so a
  reported p95 is always a latency that was measured.
- Latencies come from the trials that ran (an errored trial's wall time measures the failure, often a
  timeout); tool calls, tokens and cost from every trial (an errored trial was still paid for).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from decimal import Decimal

from evals.harness.results import Outcome, ScenarioResult, Summary, TagSummary, TrialResult

MICRODOLLAR = Decimal("0.000001")


def _check(successes: int, trials: int, k: int) -> None:
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and trials ({trials}), got {successes}")
    if not 1 <= k <= trials:
        raise ValueError(f"k must be between 1 and trials ({trials}), got {k}")


def pass_hat_k(successes: int, trials: int, k: int) -> float:
    """C(s, k) / C(n, k): the chance that k trials drawn without replacement all succeeded."""
    _check(successes, trials, k)
    return math.comb(successes, k) / math.comb(trials, k)


def pass_at_k(successes: int, trials: int, k: int) -> float:
    """1 - C(n - s, k) / C(n, k): the chance that at least one of k drawn trials succeeded."""
    _check(successes, trials, k)
    return 1 - math.comb(trials - successes, k) / math.comb(trials, k)


def scenario_result(id: str, title: str, tags: list[str], trials: list[TrialResult]) -> ScenarioResult:
    """A scenario's trials with pass^k and pass@k for k = 1..(trials that ran)."""
    counted = [trial for trial in trials if trial.outcome is not Outcome.ERROR]
    n, s = len(counted), sum(trial.outcome is Outcome.PASSED for trial in counted)
    return ScenarioResult(
        id=id,
        title=title,
        tags=tags,
        trials=trials,
        pass_hat_k={k: pass_hat_k(s, n, k) for k in range(1, n + 1)},
        pass_at_k={k: pass_at_k(s, n, k) for k in range(1, n + 1)},
    )


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (0.0 when there is no value)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def mean_by_k(rates: Sequence[dict[int, float]]) -> dict[int, float]:
    """For each k, the mean over the scenarios that have that k (fewer when some trials errored)."""
    ks = sorted({k for rate in rates for k in rate})
    return {k: statistics.fmean(rate[k] for rate in rates if k in rate) for k in ks}


def failed_trials(scenario: ScenarioResult) -> list[TrialResult]:
    return [trial for trial in scenario.trials if trial.outcome is Outcome.FAILED]


def errored_trials(scenario: ScenarioResult) -> list[TrialResult]:
    return [trial for trial in scenario.trials if trial.outcome is Outcome.ERROR]


def conversation_p95(scenario: ScenarioResult) -> float:
    return percentile((trial.latency_ms for trial in scenario.counted), 95)


def _by_tag(scenarios: Sequence[ScenarioResult]) -> dict[str, TagSummary]:
    tags = sorted({tag for scenario in scenarios for tag in scenario.tags})
    found: dict[str, TagSummary] = {}
    for tag in tags:
        tagged = [scenario for scenario in scenarios if tag in scenario.tags]
        found[tag] = TagSummary(
            scenarios=len(tagged), pass_hat_k=mean_by_k([scenario.pass_hat_k for scenario in tagged])
        )
    return found


def _count(trials: Sequence[TrialResult], outcome: Outcome) -> int:
    return sum(trial.outcome is outcome for trial in trials)


def summarize(scenarios: list[ScenarioResult], trials: int) -> Summary:
    """The run's summary; `trials` is the number asked for per scenario."""
    every = [trial for scenario in scenarios for trial in scenario.trials]
    ran = [trial for trial in every if trial.outcome is not Outcome.ERROR]
    calls = [call.latency_ms for trial in ran for call in trial.calls]
    cost = sum((trial.cost_usd for trial in every), Decimal(0))
    per_trial = (cost / len(every)).quantize(MICRODOLLAR) if every else Decimal(0)
    return Summary(
        scenarios=len(scenarios),
        trials=trials,
        passed=_count(every, Outcome.PASSED),
        failed=_count(every, Outcome.FAILED),
        errors=_count(every, Outcome.ERROR),
        pass_hat_k=mean_by_k([scenario.pass_hat_k for scenario in scenarios]),
        pass_at_k=mean_by_k([scenario.pass_at_k for scenario in scenarios]),
        latency_ms_p50=percentile((trial.latency_ms for trial in ran), 50),
        latency_ms_p95=percentile((trial.latency_ms for trial in ran), 95),
        tool_latency_ms_p50=percentile(calls, 50),
        tool_latency_ms_p95=percentile(calls, 95),
        tool_calls=sum(len(trial.calls) for trial in every),
        input_tokens=sum(trial.input_tokens for trial in every),
        output_tokens=sum(trial.output_tokens for trial in every),
        cost_usd=cost,
        cost_usd_per_trial=per_trial,
        by_tag=_by_tag(scenarios),
    )
