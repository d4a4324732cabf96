"""The stages in order: a company rule, the merchant's history, the model, the MCC, nothing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.categorize import books
from tools.categorize import learn
from tools.categorize.features import ExpenseFacts
from tools.categorize.model import Artifact, Corrections
from tools.categorize.pipeline import RULE_CONFIDENCE, Guess, Scores, decide

UBER = ExpenseFacts("UBER *TRIP HELP.UBER.COM", None, "4121", None, 18.0, "Sales")


@pytest.fixture(scope="module")
def artifact() -> Artifact:
    return learn.train(books.examples(), books.MCC_CATEGORIES, books.THRESHOLDS).artifact


def test_a_company_rule_decides_first(artifact: Artifact) -> None:
    [found] = decide(books.company(rules={"UBER": "MEALS"}), artifact, [UBER])

    assert (found.source, found.guesses, found.needs_review) == (
        "rule",
        (Guess("MEALS", RULE_CONFIDENCE),),
        False,
    )
    assert found.reason == "company rule: Uber is booked as MEALS"


def test_a_merchant_booked_one_way_is_decided_by_its_history(artifact: Artifact) -> None:
    [found] = decide(books.company(), artifact, [UBER])

    assert found.source == "history"
    assert found.best is not None
    assert found.best.code == "TAXI"
    assert found.reason.startswith("Uber was booked as TAXI ")
    assert found.reason.endswith("times, and the company model agrees")
    assert found.merchant_seen


def test_when_the_model_disagrees_with_history_the_model_decides(artifact: Artifact) -> None:
    disagreeing = Scores(
        artifact.classes, np.array([[1.0 if c == "MEALS" else 0.0 for c in artifact.classes]])
    )

    [found] = decide(books.company(), artifact, [UBER], disagreeing)

    assert (found.source, found.best and found.best.code) == ("model", "MEALS")


def test_corrections_since_training_count_as_evidence_at_once(artifact: Artifact) -> None:
    new = ExpenseFacts("FREENOW TAXI 8812", "FreeNow", "4121", None, 22.0, "Sales")
    corrections = Corrections()
    for _ in range(10):
        corrections.add(new, "MEALS")
    for _ in range(2):
        corrections.add(UBER, "MEALS")

    before = decide(books.company(), artifact, [new, UBER])
    after = decide(books.company(), artifact, [new, UBER], corrections=corrections)

    assert [(d.source, d.best and d.best.code) for d in before] == [
        ("model", "TAXI"),
        ("history", "TAXI"),
    ]
    # A merchant the books never saw follows its corrections; Uber's long history outweighs two of them.
    assert [(d.source, d.best and d.best.code) for d in after] == [
        ("correction", "MEALS"),
        ("history", "TAXI"),
    ]
    assert after[0].reason == (
        "corrected by a person since the model was trained: FreeNow was recategorized as MEALS 10 of 10 "
        "times, and the company model agrees"
    )
    assert after[1].reason.endswith(
        "; since the model was trained Uber was recategorized as MEALS 2 of 2 times, not enough yet to "
        "outweigh its history"
    )


def test_without_a_model_history_decides_with_its_smoothed_share(artifact: Artifact) -> None:
    tables_only = replace(artifact, vocabulary={})

    [found] = decide(books.company(), tables_only, [UBER])

    history = artifact.merchants["UBER"]
    assert found.source == "history"
    assert found.confidence == pytest.approx((history.total + 1) / (history.total + 2), abs=1e-4)


def test_without_a_model_two_thirds_of_the_corrections_decide_before_history(artifact: Artifact) -> None:
    tables_only = replace(artifact, vocabulary={})
    agreeing, split = Corrections(), Corrections()
    for code in ("MEALS", "MEALS"):
        agreeing.add(UBER, code)
    for code in ("MEALS", "TAXI"):
        split.add(UBER, code)

    [followed] = decide(books.company(), tables_only, [UBER], corrections=agreeing)
    [held] = decide(books.company(), tables_only, [UBER], corrections=split)

    assert (followed.source, followed.guesses) == ("correction", (Guess("MEALS", 0.75),))
    assert followed.reason == (
        "corrected by a person, and there is no company model yet: Uber was recategorized as MEALS 2 of 2 "
        "times"
    )
    # Half of them is not two thirds: the merchant's history answers.
    assert (held.source, held.best and held.best.code) == ("history", "TAXI")
    assert "model" not in followed.reason.removeprefix("corrected by a person, and there is no company model")
    assert "model" not in held.reason


def test_an_unseen_merchant_is_answered_by_the_model_from_mcc_and_words(artifact: Artifact) -> None:
    [found] = decide(books.company(), artifact, [ExpenseFacts("FREENOW TAXI 8812", None, "4121", None, 22.0)])

    assert (found.source, found.merchant_seen) == ("model", False)
    assert found.best is not None
    assert found.best.code == "TAXI"


def test_no_model_falls_back_to_the_mcc_then_to_nothing() -> None:
    listed, nothing = decide(
        books.company(), None, [ExpenseFacts("TRATTORIA DA MARIO", mcc="5812"), ExpenseFacts("XYZ")]
    )

    assert listed.source == "mcc"
    assert listed.needs_review
    assert [g.code for g in listed.guesses] == ["MEALS", "CLIENT"]
    assert listed.confidence == pytest.approx(0.25)
    assert (nothing.source, nothing.guesses, nothing.needs_review) == ("fallback", (), True)


def test_answers_below_the_review_threshold_need_review(artifact: Artifact) -> None:
    unsure = Scores(artifact.classes, np.full((1, len(artifact.classes)), 1 / len(artifact.classes)))

    [found] = decide(books.company(), artifact, [ExpenseFacts("AMAZON MKTPLACE", "Amazon", "5942")], unsure)

    assert found.source == "model"
    assert found.needs_review
