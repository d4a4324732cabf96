"""The forecast eval per origin bucket: the outcomes behind every coverage and Brier figure, the binomial
interval of a coverage measured on few outcomes, the APE against the best naive baseline, the targets;
and the real-series path (`--dataset`) on a tiny ledger in Calderdale's published format."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import random
from pathlib import Path

import pytest

from evals import forecast_buckets as buckets
from evals import forecast_real
from evals.cli import DATASETS
from evals.datasets import calderdale
from evals.forecast_periods import Outcome, as_of_days, bucket_of
from server.cli import main


def outcome(
    bucket: str, *, inside: bool, over: bool = False, shape: str = "trend", **given: float
) -> Outcome:
    baselines: dict[str, float | None] = {"naive": 130.0, "snaive": 110.0, "naive2": 125.0}
    return Outcome(
        bucket=bucket,
        kind="team",
        shape=shape,
        days_gone=0,
        inside_80=inside,
        inside_95=True,
        probability=given.get("probability", 0.1),
        over=over,
        actual=100,
        expected=int(given.get("expected", 105)),
        baselines=baselines,
    )


def test_a_quarter_is_forecast_every_10th_day_and_bucketed_by_the_share_gone() -> None:
    days = as_of_days(dt.date(2026, 7, 1), dt.date(2026, 9, 30))  # 92 days

    assert [gone for gone, _ in days] == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert days[0][1] == dt.date(2026, 6, 30)  # the day before it starts
    assert [bucket_of(gone, 92) for gone, _ in days] == ["early"] * 4 + ["middle"] * 3 + ["late"] * 3


def test_each_bucket_reports_its_outcomes_and_the_binomial_interval_under_100() -> None:
    few = [outcome("early", inside=k < 14) for k in range(20)]  # 70% of 20
    many = [outcome("middle", inside=k < 80, over=k < 30) for k in range(100)]  # 80% of 100

    found = buckets.by_bucket(few + many)

    early, middle, late = found["early"], found["middle"], found["late"]
    assert (early["n"], middle["n"], late["n"]) == (20, 100, 0)
    cell = early["coverage"]["80"]
    assert (cell["n"], cell["coverage"]) == (20, 0.7)
    low, high = cell["interval_90"]
    assert low == pytest.approx(0.4922, abs=1e-4)  # Clopper-Pearson, 90%, 14 of 20
    assert high == pytest.approx(0.8604, abs=1e-4)
    assert (cell["contains_nominal"], cell["meets_target"]) == (True, True)  # few outcomes: judged by it
    assert middle["coverage"]["80"]["meets_target"] is True  # 100 outcomes: 80% is inside 75-85%
    assert (middle["brier_base_rate"], middle["n"]) == (pytest.approx(0.21), 100)
    assert late["coverage"]["80"] == {
        "n": 0, "coverage": None, "interval_90": None, "contains_nominal": None, "meets_target": None,
    }  # fmt: skip


def test_the_ape_is_scored_against_the_best_naive_baseline_on_the_same_outcomes() -> None:
    found = buckets.ape_scores([outcome("late", inside=True, expected=e) for e in (104, 108, 90)])

    assert found["n"] == 3
    assert found["methods"]["engine"] == {"mean": pytest.approx(0.0733, abs=1e-4), "median": 0.08}
    assert found["best_naive"] == {
        "mean": {"method": "snaive", "ape": 0.1},
        "median": {"method": "snaive", "ape": 0.1},
    }
    assert found["meets_target"] is True


def test_the_targets_are_marked_and_the_report_names_the_counts() -> None:
    outcomes = [
        outcome(bucket, inside=k % 5 != 0, over=k % 4 == 0, probability=0.9 if k % 4 else 0.0, shape=shape)
        for bucket in ("early", "middle", "late")
        for shape in ("trend", "seasonal")
        for k in range(40)
    ]
    section = {
        "by_bucket": buckets.by_bucket(outcomes),
        "by_shape": buckets.by_shape(outcomes),
        "periods": 12,
        "origin_step": 10,
    }

    targets = buckets.targets(section, owa=0.8)

    assert [target["met"] for target in targets] == [True, False, False, True, True, None]
    assert "trend early (0.858 vs 0.188, n=40)" in targets[2]["detail"]  # overconfident: worse than the rate
    lines = "\n".join(buckets.markdown(section) + buckets.targets_markdown(targets))
    assert "| early (first third) | 80 | 5.0% / 5.0% (n=80) |" in lines
    assert "| trend | early (first third) | 40 | 80.0% (n=40, 90% CI 67%-90%) ✓ |" in lines


def _calderdale_file(folder: Path) -> None:
    """Two expense areas in Calderdale's columns: one with three years of spend and a monthly
    subscription, one with ten months (left out: fewer than 27 complete months)."""
    noise = random.Random(7)
    rows = []
    for number, day in enumerate(dt.date(2016, 1, 4) + dt.timedelta(days=n) for n in range(0, 3 * 365, 3)):
        rows.append((day, "Economy-Markets", "TESCO STORE 2617", 120 + 40 * noise.random()))
        if day.day <= 3:
            rows.append((day, "Economy-Markets", "ZOOM.US", 14.39))
        if number < 100:
            rows.append((day, "Economy-Regeneration", "AMZNMktplace", 60.0))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Body Name", "Transaction Date", "Transaction number", "Supplier Name", "Net Amount",
                     "Merchant Category", "Merchant Category Group", "Expense Area", "Expense Type",
                     "Expense Code", "source_file", "release_month"])  # fmt: skip
    for number, (day, area, supplier, amount) in enumerate(rows, 1):
        writer.writerow(["Calderdale", day.isoformat(), number, supplier, f"{amount:.2f}", "Grocery Stores",
                         "Retail", area, "Supplies", "S1", "file.csv", f"{day:%Y-%m}"])  # fmt: skip
    path = folder / calderdale.FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(out.getvalue().encode()))


def test_the_command_runs_the_real_series_path_on_a_tiny_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _calderdale_file(tmp_path / "datasets")

    args = ["eval", "forecast", "--dataset", "calderdale", "--datasets", str(tmp_path / "datasets")]
    assert main([*args, "--out", str(tmp_path)]) == 0

    report = json.loads((tmp_path / "forecast-calderdale.json").read_text())
    selection = report["series_selection"]
    assert [one["name"] for one in selection["kept"]] == ["Economy-Markets"]
    assert selection["left_out"] == [
        {
            "name": "Economy-Regeneration",
            "months": "8 complete months, 2016-02..2016-09",
            "why": "fewer than 27",
        }
    ]
    calibration = report["calibration"]
    # Complete months 2016-02..2018-11: quarters 2017-Q2 .. 2018-Q3, each budgeted at the year before.
    assert calibration["periods"] == 6
    assert sum(found["n"] for found in calibration["by_bucket"].values()) == calibration["n"] == 6 * 10 - 1
    assert list(calibration["by_shape"]) == ["dense"]
    assert report["models"]["theta"]["owa"] is not None
    assert "owa_vs_snaive" in report["models"]["theta"]
    assert "## Targets (issue 18)" in capsys.readouterr().out


def test_the_real_series_of_the_shared_datasets_are_chosen_by_complete_months() -> None:
    """On the shared Birmingham ledger itself (OUTLAY_DATASETS, or ../shared/datasets beside the checkout):
    the directorates of the 2019 reorganisation are kept, the older ones have too few complete months."""
    folder = Path(os.environ.get("OUTLAY_DATASETS", DATASETS))
    if not (folder / "birmingham-pcard").is_dir():
        pytest.skip(f"no shared datasets at {folder}: set OUTLAY_DATASETS")
    ledger = forecast_real.LOADERS["birmingham"](folder)

    selection = forecast_real.books_of("birmingham", ledger)

    kept = {one["name"] for one in selection.report["series_selection"]["kept"]}
    assert {"SCHOOLS", "NEIGHBOURHOODS", "EDUCATION AND SKILLS"} <= kept
    assert "CYP&F" not in kept
    assert all(int(one["months"].split()[0]) >= 27 for one in selection.report["series_selection"]["kept"])
    assert selection.books.budgets
    assert all(row.end <= dt.date(2022, 2, 28) for row in selection.books.budgets)
