"""The training curve's pieces: a synthetic ledger of the asked size, one size timed and measured, and the
target row that says whether 100,000 expenses trained within budget."""

from __future__ import annotations

from bench import summary, training


def test_the_synthetic_ledger_has_the_asked_rows_and_categories() -> None:
    found = training.examples(3000, 20)

    assert len(found) == 3000
    assert len({e.code for e in found}) <= 20
    assert {e.facts.parents for e in found} <= {(f"Division {d}",) for d in range(6)}
    assert found[0].day < found[-1].day


def test_one_size_reports_seconds_memory_and_holdout_accuracy() -> None:
    found = training.one(3000, 20)

    assert (found["rows"], found["classes"]) == (3000, 20)
    assert found["seconds"] > 0  # a child process that trained, timed
    assert found["peak_rss_mb"] > 50
    assert 0 < found["holdout_accuracy"] <= 1


def test_the_target_row_says_no_when_a_budget_is_exceeded() -> None:
    def run(seconds: float, rss: int) -> dict[str, object]:
        row = {
            "rows": 100_000,
            "classes": 150,
            "seconds": seconds,
            "cpu_seconds": seconds,
            "peak_rss_mb": rss,
        }
        return {"sections": {"training": {"curve": [row]}}}

    assert [row["met"] for row in summary.targets(run(12.0, 500))] == [True]
    assert [row["met"] for row in summary.targets(run(31.0, 500))] == [False]
    assert [row["met"] for row in summary.targets(run(12.0, 601))] == [False]
