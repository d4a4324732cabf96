"""The regression gate trips on synthetic regressions and lets noise through."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from evals.harness.gate import Verdict, compare, format_verdict, noise
from evals.harness.results import RunResult, ScenarioResult
from tests.evals.factories import run, scenario, trial

LIVE = partial(run, agent="live", model="claude-sonnet-4-5")


def suite(successes: int, *, scenarios: int = 40, trials: int = 4) -> list[ScenarioResult]:
    """`scenarios` scenarios of `trials` trials with `successes` passes in all, the first trials first."""
    found = []
    for index in range(scenarios):
        passes = min(trials, max(0, successes - index * trials))
        found.append(scenario(f"s{index:02d}", "P" * passes + "F" * (trials - passes)))
    return found


def timed(latency_ms: float, call_ms: float, cost_usd: str = "0") -> list[ScenarioResult]:
    made = partial(trial, latency_ms=latency_ms, call_latencies=[call_ms], cost_usd=cost_usd)
    return [scenario(f"s{index}", "PP", make_trial=made) for index in range(3)]


def test_the_same_scripted_run_passes() -> None:
    baseline = run([scenario("a", "P"), scenario("b", "P")])

    verdict = compare(baseline, baseline)

    assert verdict == Verdict(
        passed=True,
        failures=[],
        notes=[
            "conversation p95 latency 100.0 ms → 100.0 ms (+0%)",
            "tool-call p95 latency 10.0 ms → 10.0 ms (+0%)",
        ],
    )


def test_a_failing_scripted_scenario_fails_the_gate_whatever_the_baseline() -> None:
    failing = run([scenario("a", "P"), scenario("b", "PFF", title="Approver for a trip")])

    verdict = compare(failing, failing)

    assert not verdict.passed
    assert verdict.failures == [
        "scripted scenario b failed (trials 2, 3): calls summarize_spend with period=2026-Q3 — seen: "
        "no call to summarize_spend"
    ]


def test_infrastructure_errors_fail_the_gate_and_say_they_are_not_the_agents() -> None:
    current = run([scenario("a", "PE"), scenario("b", "EE")])

    verdict = compare(current, run([scenario("a", "PP"), scenario("b", "PP")]))

    assert verdict.failures == [
        "infrastructure error, not the agent's: a (trial 2): stdio connection to the server failed: "
        "broken pipe",
        "infrastructure error, not the agent's: b (trials 1, 2): stdio connection to the server failed: "
        "broken pipe",
    ]


def test_a_live_pass_hat_1_drop_from_090_to_060_over_40x4_trials_fails() -> None:
    baseline, current = LIVE(suite(144)), LIVE(suite(96))
    assert (baseline.summary.pass_hat_k[1], current.summary.pass_hat_k[1]) == (0.9, 0.6)

    verdict = compare(current, baseline)

    assert verdict.failures == [
        "pass^1 0.900 → 0.600 over 40 common scenarios (160 and 160 counted trials; noise ±0.097): "
        "dropped beyond noise"
    ]


def test_a_live_pass_hat_1_drop_from_090_to_088_is_noise() -> None:
    verdict = compare(LIVE(suite(141)), LIVE(suite(144)))

    assert verdict.passed
    assert "pass^1 0.900 → 0.881 over 40 common scenarios (160 and 160 counted trials; noise ±0.070)" in (
        verdict.notes
    )


def test_the_noise_is_two_standard_errors_of_a_difference_of_proportions_with_a_floor() -> None:
    assert noise(0.75, 160, 160) == pytest.approx(2 * (0.75 * 0.25 * (2 / 160)) ** 0.5)
    assert noise(1.0, 160, 160) == 0.05  # a perfect baseline: one failed trial is not a regression


def test_a_live_pass_rate_is_compared_on_the_scenarios_both_runs_have() -> None:
    baseline = LIVE([*suite(144), scenario("retired", "FFFF")])
    current = LIVE([*suite(144), scenario("brand-new", "FFFF")])

    verdict = compare(current, baseline)

    assert verdict.passed
    assert verdict.notes[:2] == [
        "new scenarios (not in the baseline): brand-new",
        "missing scenarios (in the baseline only): retired",
    ]


def test_cost_per_trial_up_25_percent_fails() -> None:
    baseline, current = LIVE(timed(1000, 50, "0.0100")), LIVE(timed(1000, 50, "0.0125"))

    verdict = compare(current, baseline)

    assert verdict.failures == ["cost per trial $0.010000 → $0.012500 (+25%): more than 20% up"]
    assert compare(LIVE(timed(1000, 50, "0.0115")), baseline).passed


@pytest.mark.parametrize(
    ("before", "after", "failure"),
    [
        (
            (1000, 50),
            (1300, 50),
            "conversation p95 latency 1,000.0 ms → 1,300.0 ms (+30%): more than 20% and 50 ms up",
        ),
        (
            (1000, 200),
            (1000, 260),
            "tool-call p95 latency 200.0 ms → 260.0 ms (+30%): more than 20% and 50 ms up",
        ),
    ],
)
def test_p95_latency_up_30_percent_above_the_floor_fails(
    before: tuple[float, float], after: tuple[float, float], failure: str
) -> None:
    verdict = compare(run(timed(*after)), run(timed(*before)))

    assert verdict.failures == [failure]


def test_p95_latency_up_30_percent_below_the_floor_is_noise() -> None:
    verdict = compare(run(timed(26, 4)), run(timed(20, 3)))
    assert verdict.passed

    verdict = compare(run(timed(26, 4)), run(timed(20, 3)), latency_floor_ms=5)
    assert verdict.failures == [
        "conversation p95 latency 20.0 ms → 26.0 ms (+30%): more than 20% and 5 ms up"
    ]


def test_latency_is_not_compared_across_transports_and_the_difference_is_a_note() -> None:
    verdict = compare(run(timed(5000, 500), transport="stdio"), run(timed(1000, 50)))

    assert verdict == Verdict(
        passed=True,
        failures=[],
        notes=[
            "transport differs: stdio now, memory in the baseline",
            "latency not compared: the runs differ in agent, transport or backend",
        ],
    )


@pytest.mark.parametrize(
    ("current", "baseline"), [("scripted", "live"), ("live", "scripted"), ("scripted", "replay")]
)
def test_scripted_against_live_or_replayed_is_refused(current: str, baseline: str) -> None:
    verdict = compare(run([scenario("a", "P")], agent=current), run([scenario("a", "P")], agent=baseline))

    assert not verdict.passed
    assert verdict.failures == [
        f"refused: a {current} run cannot be compared with a {baseline} baseline (scripted runs check the "
        "server, live and replayed runs the model); use a baseline of the same kind"
    ]


def test_live_against_replay_is_compared_with_a_note() -> None:
    verdict = compare(LIVE(suite(144)), run(suite(144), agent="replay", model="claude-sonnet-4-5"))

    assert verdict.passed
    assert verdict.notes[0] == "agent differs: live now, replay in the baseline"


def test_a_baseline_read_back_from_json_compares_like_the_original(tmp_path: Path) -> None:
    baseline = LIVE(timed(1000, 50, "0.0100"))
    path = tmp_path / "baseline.json"
    baseline.write(path)

    assert compare(baseline, RunResult.read(path)) == compare(baseline, baseline)


def test_format_verdict_lists_failures_then_notes() -> None:
    verdict = Verdict(passed=False, failures=["cost per trial up"], notes=["model differs"])

    assert format_verdict(verdict) == (
        "gate FAILED: 1 problem\n  ✗ cost per trial up\nnotes:\n  - model differs"
    )
    assert format_verdict(Verdict(passed=True)) == "gate PASSED: no regression against the baseline"
