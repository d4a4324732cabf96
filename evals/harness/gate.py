"""The regression gate: a run's results against a committed baseline's.

It fails when
- a scripted run has a scenario with a failed trial (scripted runs are deterministic: any failure means
  the server no longer does what the scenario says, whatever the baseline did);
- any trial hit an infrastructure error (the run proves nothing about the agent then: run it again);
- a live or replayed run's pass^1 dropped beyond noise. pass^1 is taken over the scenarios both runs
  have, as successes / counted trials (the averaged pass^1 when every scenario counted the same number of
  trials), and the drop is the difference of two proportions: it fails when
  `drop > max(0.05, 2 * sqrt(p * (1 - p) * (1 / n1 + 1 / n2)))`, p the pooled pass rate of both runs and
  n1, n2 their counted trials (about a 95% two-sided z-test; the 0.05 floor keeps a perfect baseline,
  where the test's width is 0, from failing on one unlucky trial);
- the cost per trial rose more than `tolerance` (when the baseline cost anything);
- the p95 latency of a conversation or of a tool call rose more than `tolerance` AND by more than
  `latency_floor_ms`, because a 3 ms → 4 ms change on a shared CI machine is noise, not a regression.
  Latency is compared only between runs of the same agent kind, transport and backend.

Comparing a scripted run with a live or replayed one is refused (a failure): their pass rates measure
different things. Other differences (new or missing scenarios, another transport, backend, model or
trial count) are notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from evals.harness.metrics import errored_trials, failed_trials
from evals.harness.report import first_failure, trials_text
from evals.harness.results import RunInfo, RunResult, ScenarioResult, TrialResult

TOLERANCE = 0.20
LATENCY_FLOOR_MS = 50.0
MIN_DROP = 0.05


@dataclass
class Verdict:
    passed: bool
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def compare(
    current: RunResult,
    baseline: RunResult,
    *,
    tolerance: float = TOLERANCE,
    latency_floor_ms: float = LATENCY_FLOOR_MS,
) -> Verdict:
    """`current` against `baseline` under the rules of the module docstring."""
    failures = [*_scripted_failures(current), *_infrastructure(current)]
    notes = _differences(current, baseline)
    if _scripted(current.run) != _scripted(baseline.run):
        failures.append(
            f"refused: a {current.run.agent} run cannot be compared with a {baseline.run.agent} baseline "
            "(scripted runs check the server, live and replayed runs the model); use a baseline of the "
            "same kind"
        )
        return Verdict(passed=False, failures=failures, notes=notes)
    if not _scripted(current.run):
        _pass_rate(current, baseline, failures, notes)
    _cost(current, baseline, tolerance, failures, notes)
    if _same_setup(current.run, baseline.run):
        _latencies(current, baseline, tolerance, latency_floor_ms, failures, notes)
    else:
        notes.append("latency not compared: the runs differ in agent, transport or backend")
    return Verdict(passed=not failures, failures=failures, notes=notes)


def _scripted(run: RunInfo) -> bool:
    return run.agent == "scripted"


def _same_setup(current: RunInfo, baseline: RunInfo) -> bool:
    return (current.agent, current.transport, current.backend) == (
        baseline.agent,
        baseline.transport,
        baseline.backend,
    )


def _numbers(trials: list[TrialResult]) -> str:
    return trials_text([trial.trial for trial in trials])


def _scripted_failures(run: RunResult) -> list[str]:
    if not _scripted(run.run):
        return []
    return [
        f"scripted scenario {scenario.id} failed ({_numbers(failed)}): {first_failure(failed[0])}"
        for scenario in run.scenarios
        if (failed := failed_trials(scenario))
    ]


def _infrastructure(run: RunResult) -> list[str]:
    return [
        f"infrastructure error, not the agent's: {scenario.id} ({_numbers(errored)}): "
        f"{errored[0].error or 'no detail'}"
        for scenario in run.scenarios
        if (errored := errored_trials(scenario))
    ]


def _differences(current: RunResult, baseline: RunResult) -> list[str]:
    notes = []
    now, then = {s.id for s in current.scenarios}, {s.id for s in baseline.scenarios}
    if now - then:
        notes.append(f"new scenarios (not in the baseline): {', '.join(sorted(now - then))}")
    if then - now:
        notes.append(f"missing scenarios (in the baseline only): {', '.join(sorted(then - now))}")
    for name in ("agent", "transport", "backend", "model", "trials"):
        ours, theirs = getattr(current.run, name), getattr(baseline.run, name)
        if ours != theirs:
            notes.append(f"{name} differs: {ours} now, {theirs} in the baseline")
    return notes


def _pooled(scenarios: list[ScenarioResult], ids: set[str]) -> tuple[int, int]:
    """(successes, counted trials) over the scenarios in `ids`."""
    chosen = [scenario for scenario in scenarios if scenario.id in ids]
    return sum(s.successes for s in chosen), sum(len(s.counted) for s in chosen)


def noise(p: float, n1: int, n2: int) -> float:
    """The largest pass^1 drop the gate lets pass: max(0.05, 2 standard errors of the difference)."""
    return max(MIN_DROP, 2 * math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2)))


def _pass_rate(current: RunResult, baseline: RunResult, failures: list[str], notes: list[str]) -> None:
    common = {s.id for s in current.scenarios} & {s.id for s in baseline.scenarios}
    (s1, n1), (s2, n2) = _pooled(baseline.scenarios, common), _pooled(current.scenarios, common)
    if not n1 or not n2:
        notes.append("pass^1 not compared: no counted trial in the scenarios both runs have")
        return
    before, after = s1 / n1, s2 / n2
    allowed = noise((s1 + s2) / (n1 + n2), n1, n2)
    said = (
        f"pass^1 {before:.3f} → {after:.3f} over {len(common)} common scenarios "
        f"({n1} and {n2} counted trials; noise ±{allowed:.3f})"
    )
    if before - after > allowed:
        failures.append(f"{said}: dropped beyond noise")
    else:
        notes.append(said)


def _change(before: Decimal | float, after: Decimal | float) -> str:
    return f"{float(after) / float(before) - 1:+.0%}"


def _cost(
    current: RunResult, baseline: RunResult, tolerance: float, failures: list[str], notes: list[str]
) -> None:
    before, after = baseline.summary.cost_usd_per_trial, current.summary.cost_usd_per_trial
    if before <= 0:
        return
    said = f"cost per trial ${before} → ${after} ({_change(before, after)})"
    if after > before * (1 + Decimal(str(tolerance))):
        failures.append(f"{said}: more than {tolerance:.0%} up")
    else:
        notes.append(said)


def _latencies(
    current: RunResult,
    baseline: RunResult,
    tolerance: float,
    floor_ms: float,
    failures: list[str],
    notes: list[str],
) -> None:
    for label, before, after in (
        ("conversation p95 latency", baseline.summary.latency_ms_p95, current.summary.latency_ms_p95),
        ("tool-call p95 latency", baseline.summary.tool_latency_ms_p95, current.summary.tool_latency_ms_p95),
    ):
        if before <= 0:
            continue
        said = f"{label} {before:,.1f} ms → {after:,.1f} ms ({_change(before, after)})"
        if after > before * (1 + tolerance) and after - before > floor_ms:
            failures.append(f"{said}: more than {tolerance:.0%} and {floor_ms:g} ms up")
        else:
            notes.append(said)


def format_verdict(verdict: Verdict) -> str:
    """The verdict for a terminal: the outcome, what failed, then the notes."""
    if verdict.passed:
        lines = ["gate PASSED: no regression against the baseline"]
    else:
        count = len(verdict.failures)
        lines = [f"gate FAILED: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"  ✗ {failure}" for failure in verdict.failures]
    if verdict.notes:
        lines += ["notes:", *(f"  - {note}" for note in verdict.notes)]
    return "\n".join(lines)
