"""The corrections stage on its own: which category people's corrections name, how sure that makes it,
and what it does to the answer the other stages gave."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.categorize import books
from tools.categorize.correction_queries import MerchantCorrections
from tools.categorize.corrections import Verdict, overrule, verdict
from tools.categorize.pipeline import Decision, Guess

DAY = dt.date(2026, 11, 20)
MODEL = Decision(
    (Guess("MEALS", 0.7), Guess("TAXI", 0.2), Guess("AIR", 0.1)),
    "model",
    "company model; Uber was booked as MEALS 3 of 4 times",
    needs_review=True,
    merchant="UBER",
    merchant_seen=True,
)


def corrections(first: dt.date = DAY, last: dt.date = DAY, **counts: int) -> MerchantCorrections:
    return MerchantCorrections(counts, first, last)


@pytest.mark.parametrize(
    ("counts", "found"),
    [
        ({"TAXI": 1}, Verdict("TAXI", 1, 1)),
        ({"TAXI": 2, "MEALS": 1}, Verdict("TAXI", 2, 3)),  # exactly 2/3
        ({"TAXI": 3, "MEALS": 2}, None),  # 3/5: people disagree
        ({"TAXI": 1, "MEALS": 1}, None),
        ({}, None),
    ],
)
def test_a_category_wins_when_at_least_two_thirds_of_the_corrections_name_it(
    counts: dict[str, int], found: Verdict | None
) -> None:
    assert verdict(counts) == found


@pytest.mark.parametrize(
    ("agree", "total", "confidence"),
    [(1, 1, 0.6667), (2, 2, 0.75), (3, 3, 0.8), (2, 3, 0.6), (200, 200, 0.99)],
)
def test_the_confidence_is_the_smoothed_share_capped_below_certainty(
    agree: int, total: int, confidence: float
) -> None:
    assert Verdict("TAXI", agree, total).confidence == pytest.approx(confidence, abs=5e-5)


def test_one_correction_decides_but_still_needs_review() -> None:
    found = overrule(MODEL, corrections(TAXI=1), books.company(), "Uber")

    assert found == Decision(
        # The model's other guesses share what is left (1 - 0.6667) as they shared the rest of theirs (0.8).
        (Guess("TAXI", 0.6667), Guess("MEALS", 0.2917), Guess("AIR", 0.0417)),
        "correction",
        "corrected by a person: Uber was recategorized as TAXI 1 of 1 times since 2026-11-20",
        needs_review=True,
        merchant="UBER",
        merchant_seen=True,
    )


def test_three_agreeing_corrections_reach_the_review_threshold() -> None:
    found = overrule(
        MODEL, corrections(first=DAY, last=DAY + dt.timedelta(days=2), TAXI=3), books.company(), "Uber"
    )

    assert (found.best, found.needs_review) == (Guess("TAXI", 0.8), False)
    assert found.reason == (
        "corrected by a person: Uber was recategorized as TAXI 3 of 3 times since 2026-11-20, "
        "last on 2026-11-22"
    )


def test_a_company_rule_still_comes_first() -> None:
    rule = Decision((Guess("MEALS", 0.99),), "rule", "company rule", True, "UBER", True)

    assert overrule(rule, corrections(TAXI=3), books.company(), "Uber") == rule


@pytest.mark.parametrize(
    "found",
    [None, corrections(TAXI=1, AIR=1), corrections(GONE=2)],
    ids=["no corrections", "people disagree", "not a category of the company"],
)
def test_without_a_clear_correction_the_answer_stands(found: MerchantCorrections | None) -> None:
    assert overrule(MODEL, found, books.company(), "Uber") == MODEL


def test_a_correction_answers_where_nothing_else_could() -> None:
    nothing = Decision((), "fallback", "nothing to go on", True, "FREENOW", False)

    found = overrule(nothing, corrections(TAXI=2), books.company(), "FreeNow")

    assert (found.source, found.guesses, found.needs_review) == ("correction", (Guess("TAXI", 0.75),), True)
