"""pass^k, pass@k and the run summary, on numbers worked out by hand."""

from __future__ import annotations

import itertools
from decimal import Decimal
from functools import partial

import pytest

from evals.harness.metrics import pass_at_k, pass_hat_k, percentile, scenario_result, summarize
from evals.harness.results import Outcome, TagSummary, TrialResult
from tests.evals.factories import scenario, trial


def test_pass_hat_k_is_the_chance_that_k_trials_all_succeed() -> None:
    # n = 4, s = 2: C(2, k) / C(4, k)
    assert [pass_hat_k(2, 4, k) for k in range(1, 5)] == pytest.approx([1 / 2, 1 / 6, 0, 0])
    assert [pass_hat_k(4, 4, k) for k in range(1, 5)] == [1.0, 1.0, 1.0, 1.0]
    assert [pass_hat_k(0, 4, k) for k in range(1, 5)] == [0.0, 0.0, 0.0, 0.0]


def test_pass_at_k_is_the_chance_that_one_of_k_trials_succeeds() -> None:
    # n = 4, s = 2: 1 - C(2, k) / C(4, k)
    assert [pass_at_k(2, 4, k) for k in range(1, 5)] == pytest.approx([1 / 2, 5 / 6, 1, 1])
    assert pass_at_k(1, 5, 2) == pytest.approx(1 - 6 / 10)


@pytest.mark.parametrize(("n", "s"), [(n, s) for n in range(1, 7) for s in range(n + 1)])
def test_both_equal_counting_every_k_subset_of_the_trials(n: int, s: int) -> None:
    outcomes = [True] * s + [False] * (n - s)
    for k in range(1, n + 1):
        subsets = list(itertools.combinations(outcomes, k))
        assert pass_hat_k(s, n, k) == pytest.approx(sum(all(one) for one in subsets) / len(subsets))
        assert pass_at_k(s, n, k) == pytest.approx(sum(any(one) for one in subsets) / len(subsets))


@pytest.mark.parametrize(("s", "n", "k"), [(5, 4, 1), (-1, 4, 1), (2, 4, 0), (2, 4, 5)])
def test_impossible_counts_are_refused(s: int, n: int, k: int) -> None:
    with pytest.raises(ValueError, match="must be between"):
        pass_hat_k(s, n, k)
    with pytest.raises(ValueError, match="must be between"):
        pass_at_k(s, n, k)


def test_a_scenario_is_scored_on_the_trials_that_ran() -> None:
    found = scenario("flaky", "PFEP")  # the error is left out: n = 3, s = 2

    assert found.pass_hat_k == pytest.approx({1: 2 / 3, 2: 1 / 3, 3: 0.0})
    assert found.pass_at_k == pytest.approx({1: 2 / 3, 2: 1.0, 3: 1.0})
    assert (found.successes, len(found.counted), len(found.trials)) == (2, 3, 4)


def test_a_scenario_whose_every_trial_errored_has_no_pass_rates() -> None:
    found = scenario_result("down", "Server down", [], [trial(1, Outcome.ERROR), trial(2, Outcome.ERROR)])

    assert (found.pass_hat_k, found.pass_at_k) == ({}, {})


def test_nearest_rank_percentiles_are_measured_values() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20

    assert [percentile(values, q) for q in (50, 95, 100, 1)] == [10.0, 19.0, 20.0, 1.0]
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 95) == 0.0


def test_the_summary_averages_pass_hat_k_over_the_scenarios_that_have_each_k() -> None:
    scenarios = [
        scenario("a", "PPPP", tags=["spend"]),  # pass^k 1, 1, 1, 1
        scenario("b", "PPFF", tags=["spend", "approvers"]),  # 1/2, 1/6, 0, 0
        scenario("c", "PPEE", tags=["approvers"]),  # n = 2: 1, 1
        scenario("d", "EEEE", tags=["approvers"]),  # no pass rate: counts in no mean
    ]

    summary = summarize(scenarios, trials=4)

    assert summary.pass_hat_k == pytest.approx({1: 2.5 / 3, 2: (2 + 1 / 6) / 3, 3: 1 / 2, 4: 1 / 2})
    assert summary.pass_at_k[1] == pytest.approx(2.5 / 3)
    assert (summary.scenarios, summary.trials, summary.passed, summary.failed, summary.errors) == (
        4,
        4,
        8,
        2,
        6,
    )
    assert summary.by_tag == {
        "approvers": TagSummary(scenarios=3, pass_hat_k={1: 0.75, 2: (1 / 6 + 1) / 2, 3: 0.0, 4: 0.0}),
        "spend": TagSummary(scenarios=2, pass_hat_k={1: 0.75, 2: (1 + 1 / 6) / 2, 3: 0.5, 4: 0.5}),
    }


def test_the_summary_takes_latency_from_trials_that_ran_and_cost_from_every_trial() -> None:
    def timed(number: int, outcome: Outcome) -> float:
        return 10_000.0 if outcome is Outcome.ERROR else 100.0 * number  # errors: a 10 s timeout

    def made(number: int, outcome: Outcome) -> TrialResult:
        return trial(
            number,
            outcome,
            latency_ms=timed(number, outcome),
            call_latencies=[float(number), float(number) + 0.5],
            cost_usd="0.0100",
            input_tokens=1000,
            output_tokens=50,
        )

    summary = summarize([scenario("a", "PPPFE", make_trial=made), scenario("b", "PPPPP", make_trial=made)], 5)

    # conversations that ran: 100, 100, 200, 200, 300, 300, 400, 400, 500 (ranks 5 and 9 of 9); the
    # errored 10 s one is out
    assert (summary.latency_ms_p50, summary.latency_ms_p95) == (300.0, 500.0)
    # the 18 calls of the trials that ran: 1, 1, 1.5, 1.5, ... 4.5, 4.5, 5, 5.5 (ranks 9 and 18)
    assert (summary.tool_latency_ms_p50, summary.tool_latency_ms_p95) == (3.0, 5.5)
    assert summary.tool_calls == 20
    assert (summary.input_tokens, summary.output_tokens) == (10_000, 500)
    assert (summary.cost_usd, summary.cost_usd_per_trial) == (Decimal("0.1000"), Decimal("0.010000"))


def test_cost_per_trial_is_rounded_to_a_millionth_of_a_dollar() -> None:
    paid = scenario("a", "PP", make_trial=partial(trial, cost_usd="0.01"))
    free = scenario("b", "P", make_trial=partial(trial, cost_usd="0"))

    summary = summarize([paid, free], 2)

    assert (summary.cost_usd, summary.cost_usd_per_trial) == (Decimal("0.02"), Decimal("0.006667"))


def test_an_empty_run_summarizes_to_zeros() -> None:
    summary = summarize([], trials=1)

    assert (summary.pass_hat_k, summary.by_tag, summary.cost_usd_per_trial, summary.latency_ms_p95) == (
        {},
        {},
        Decimal(0),
        0.0,
    )
