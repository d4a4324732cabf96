"""Training on a company's history: a time-based split, calibrated confidences, an auto-apply threshold
the company can sign, corrections weighed up, a model that loads safely."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from tests.categorize import books
from tools.categorize import auto_apply, confidence, learn
from tools.categorize.features import ExpenseFacts
from tools.categorize.model import dump, load
from tools.categorize.pipeline import Thresholds, decide


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
    # 96 held-out answers cannot show 97% precision with 95% confidence, even all right (99 could).
    assert metrics["auto_apply"] == {
        "threshold": None,
        "coverage": 0.0,
        "precision_lower_bound": None,
        "answers": 0,
    }
    assert trained.artifact.auto_apply is None


def test_with_enough_held_out_answers_training_chooses_an_auto_apply_threshold() -> None:
    trained = learn.train(books.examples(days=300), books.MCC_CATEGORIES, books.THRESHOLDS, target=0.97)

    chosen = trained.metrics["auto_apply"]
    assert chosen["threshold"] == trained.artifact.auto_apply
    assert chosen["precision_lower_bound"] >= 0.97
    assert 0.5 < chosen["coverage"] <= 1


def test_the_holdout_is_scored_at_the_auto_apply_threshold_the_company_will_answer_with() -> None:
    examples = books.examples(days=300)
    own = Thresholds(review=0.5, auto_apply=0.6)

    chosen = learn.train(examples, books.MCC_CATEGORIES, own, target=0.97)
    given = learn.train(examples, books.MCC_CATEGORIES, own, target=0.97, auto_apply_given=True)

    assert chosen.artifact.auto_apply is not None
    # the model's choice, never below the review threshold (the synthetic books are easy: it chose low)
    assert chosen.metrics["holdout"]["auto_apply"]["threshold"] == max(chosen.artifact.auto_apply, 0.5)
    assert given.metrics["holdout"]["auto_apply"]["threshold"] == 0.6


def test_the_model_learns_from_memo_and_amount_where_the_merchant_is_ambiguous(
    trained: learn.Trained,
) -> None:
    artifact = trained.artifact
    laptop = ExpenseFacts("AMAZON MKTPLACE", "Amazon", "5942", "USB-C dock", 25.0, "Sales")
    paper = ExpenseFacts("AMAZON MKTPLACE", "Amazon", "5942", "Printer paper", 25.0, "Sales")

    found = decide(books.company(), artifact, [laptop, paper])

    assert [d.best.code for d in found if d.best] == ["HARDWARE", "OFFICE"]
    assert {d.source for d in found} == {"model"}  # Amazon is not booked one way: no learned rule


def test_a_confidence_replaces_the_top_probability_and_the_rest_share_what_is_left() -> None:
    probabilities = np.array([[0.75, 0.25, 0.0], [0.2, 0.3, 0.5]])

    calibrated = confidence.with_top(probabilities, np.array([0.65, 0.4]))

    assert calibrated[0].tolist() == pytest.approx([0.65, 0.35, 0.0])
    assert calibrated[1].tolist() == pytest.approx([0.24, 0.36, 0.4])
    assert calibrated.argmax(axis=1).tolist() == [0, 2]


@pytest.mark.parametrize(
    ("right", "answers", "target", "threshold"),
    [
        (200, 200, 0.97, 0.5),  # every answer right: the lowest threshold passes
        (190, 200, 0.97, 1.0 - 0.0025 * 81),  # the top 119 answers are right, then wrong ones come
        (0, 200, 0.97, None),  # nothing reaches the target: nothing is applied alone
    ],
)
def test_the_auto_apply_threshold_holds_its_precision_with_95_percent_confidence(
    right: int, answers: int, target: float, threshold: float | None
) -> None:
    scores = np.linspace(1.0, 0.5, answers)
    correct = np.zeros(answers, bool)
    correct[:right] = True
    if 0 < right < answers:  # the wrong answers interleave with the right ones from the 120th on
        correct[:] = True
        correct[119::8][: answers - right] = False

    chosen = auto_apply.choose(scores, correct, target)

    if threshold is None:
        assert (chosen.threshold, chosen.coverage) == (None, 0.0)
        return
    assert chosen.threshold is not None
    assert chosen.lower_bound is not None
    assert chosen.lower_bound >= target
    kept = scores >= chosen.threshold - 1e-12
    assert auto_apply.lower_bound(int(correct[kept].sum()), int(kept.sum())) >= target
    assert chosen.coverage == pytest.approx(kept.mean())


def test_the_clopper_pearson_bound_is_below_the_observed_share() -> None:
    assert auto_apply.lower_bound(100, 100) == pytest.approx(0.05 ** (1 / 100))
    assert auto_apply.lower_bound(97, 100) < 0.97
    assert auto_apply.lower_bound(0, 10) == 0.0


def test_a_corrected_expense_weighs_more_in_the_next_training() -> None:
    examples = books.examples()
    paper = [e for e in examples if e.facts.memo == "Printer paper"]
    corrected = {e.ref for e in paper[-16:]}  # people said: printer paper is HARDWARE now
    relabelled = [
        learn.Example(e.facts, "HARDWARE", e.day, e.ref, corrected=True) if e.ref in corrected else e
        for e in examples
    ]
    plain = [learn.Example(e.facts, e.code, e.day, e.ref) for e in relabelled]
    question = [ExpenseFacts("AMAZON MKTPLACE", "Amazon", "5942", "Printer paper", 25.0, "Sales")]

    def answer(found: list[learn.Example]) -> str:
        artifact = learn.train(found, books.MCC_CATEGORIES, books.THRESHOLDS).artifact
        return artifact.classes[int(artifact.predict(question)[0].argmax())]

    # Half of the paper bought lately was HARDWARE: as plain bookings that is not yet the habit; as a
    # person's corrections, it is.
    assert (answer(plain), answer(relabelled)) == ("OFFICE", "HARDWARE")


def test_an_artifact_round_trips_without_pickle(trained: learn.Trained) -> None:
    blob = dump(trained.artifact)
    facts = [ExpenseFacts("BOLT.EU/O/99", "Bolt", "4121", None, 12.0, "Sales")]

    loaded = load(blob)

    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        names = set(archive.namelist())
    assert {"W.npy", "b.npy", "v.npy", "meta.npy", "h0_data.npy"} <= names
    assert not [name for name in names if not name.endswith(".npy")]
    assert loaded.classes == trained.artifact.classes
    assert (loaded.temperature, loaded.auto_apply) == (
        trained.artifact.temperature,
        trained.artifact.auto_apply,
    )
    assert loaded.predict(facts)[0] == pytest.approx(trained.artifact.predict(facts)[0])


def test_too_little_history_gives_history_tables_and_no_model() -> None:
    trained = learn.train(books.examples(days=3, per_day=3), books.MCC_CATEGORIES, books.THRESHOLDS)

    assert trained.artifact.vocabulary == {}
    assert {k: v for k, v in trained.metrics.items() if k != "cpu_seconds"} == {
        "rows": 9,
        "calibrated": False,
    }
    assert trained.artifact.merchants
