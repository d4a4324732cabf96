"""Training on a company's history: a time-based split, calibrated curves, a model that loads safely."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from tests.categorize import books
from tools.categorize import learn
from tools.categorize.features import ExpenseFacts
from tools.categorize.model import Calibration, dump, load
from tools.categorize.pipeline import decide


@pytest.fixture(scope="module")
def trained() -> learn.Trained:
    return learn.train(books.examples(), books.MCC_CATEGORIES, books.THRESHOLDS)


def test_the_split_is_by_time_and_a_day_never_straddles_it() -> None:
    ordered = sorted(books.examples(days=10), key=lambda e: e.day)

    early = learn.split_by_time(ordered)

    assert 0 < early < len(ordered)
    assert ordered[early - 1].day < ordered[early].day
    assert early == sum(1 for e in ordered if e.day < ordered[early].day)


def test_a_version_states_its_window_size_and_holdout_metrics(trained: learn.Trained) -> None:
    metrics = trained.metrics

    assert trained.rows == 480
    assert (trained.trained_from, trained.trained_until) == (books.START, books.examples()[-1].day)
    assert metrics["calibrated"] is True
    held = [e for e in books.examples() if e.day.isoformat() >= metrics["holdout_from"]]
    assert metrics["holdout"]["count"] == len(held)
    assert metrics["holdout"]["accuracy"] > 0.9
    assert set(metrics["holdout"]) >= {"macro_f1", "ece", "accuracy_at_coverage", "auto_apply"}


def test_the_model_learns_from_memo_and_amount_where_the_merchant_is_ambiguous(
    trained: learn.Trained,
) -> None:
    artifact = trained.artifact
    laptop = ExpenseFacts("AMAZON MKTPLACE", "Amazon", "5942", "USB-C dock", 25.0, "Sales")
    paper = ExpenseFacts("AMAZON MKTPLACE", "Amazon", "5942", "Printer paper", 25.0, "Sales")

    found = decide(books.company(), artifact, [laptop, paper])

    assert [d.best.code for d in found if d.best] == ["HARDWARE", "OFFICE"]
    assert {d.source for d in found} == {"model"}  # Amazon is not booked one way: no learned rule


def test_calibration_keeps_rows_summing_to_one_and_maps_the_top() -> None:
    curve = Calibration(((0.5, 0.4), (1.0, 0.9)))
    probabilities = np.array([[0.75, 0.25, 0.0], [0.2, 0.3, 0.5]])

    calibrated = curve.apply(probabilities)

    assert calibrated[0, 0] == pytest.approx(0.65)
    assert calibrated[1, 2] == pytest.approx(0.4)
    assert calibrated.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert calibrated.argmax(axis=1).tolist() == [0, 2]


def test_an_artifact_round_trips_without_pickle(trained: learn.Trained) -> None:
    blob = dump(trained.artifact)
    facts = [ExpenseFacts("BOLT.EU/O/99", "Bolt", "4121", None, 12.0, "Sales")]

    loaded = load(blob)

    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert sorted(archive.namelist()) == ["intercept.npy", "meta.npy", "weights.npy"]
    assert loaded.classes == trained.artifact.classes
    assert loaded.calibration_seen == trained.artifact.calibration_seen
    pairs = [(f, loaded.key_of(f)) for f in facts]
    assert loaded.probabilities(pairs) == pytest.approx(trained.artifact.probabilities(pairs))


def test_too_little_history_gives_history_tables_and_no_model() -> None:
    trained = learn.train(books.examples(days=3, per_day=3), books.MCC_CATEGORIES, books.THRESHOLDS)

    assert trained.artifact.vocabulary == {}
    assert trained.metrics == {"rows": 9, "calibrated": False}
    assert trained.artifact.merchants
