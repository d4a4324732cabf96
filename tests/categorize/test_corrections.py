"""People's corrections as history: each correction is counted under every key of the corrected expense
(its merchant, merchant and cost centre, merchant and team, ...), weighed like `correction_weight`
expenses of the last training day, for exactly the expenses that share a key."""

from __future__ import annotations

from tools.categorize.features import ExpenseFacts
from tools.categorize.model import Corrections

SHELL = ExpenseFacts("SHELL KINGS 587", "SHELL KINGS", team="Fleet", parents=("Ops",), cost_center="RV12N")


def test_a_correction_counts_under_every_key_of_the_corrected_expense() -> None:
    corrections = Corrections()
    corrections.add(SHELL, "FUEL")
    corrections.add(SHELL, "FUEL")
    corrections.add(SHELL, "VEHICLE")

    assert corrections.by_merchant == {"SHELLKINGS": {"FUEL": 2, "VEHICLE": 1}}
    assert corrections.tables["key_cc"] == {"SHELLKINGS|RV12N": {"FUEL": 2, "VEHICLE": 1}}
    assert corrections.tables["key_parent"] == {"SHELLKINGS|Ops": {"FUEL": 2, "VEHICLE": 1}}
    assert "key_project" not in corrections.tables  # no project: no key there


def test_only_expenses_sharing_a_key_see_the_corrections() -> None:
    corrections = Corrections()
    corrections.add(SHELL, "FUEL")
    other_cost_centre = ExpenseFacts("SHELL KINGS 587", "SHELL KINGS", team="Fleet", cost_center="XX000")
    classes = {"FUEL": 0, "VEHICLE": 1}

    by_cost_centre = corrections.matrix("key_cc", [SHELL, other_cost_centre], classes, weight=4.0)
    by_merchant = corrections.matrix("key", [SHELL, other_cost_centre], classes, weight=4.0)

    assert by_cost_centre.toarray().tolist() == [[4.0, 0.0], [0.0, 0.0]]
    assert by_merchant.toarray().tolist() == [[4.0, 0.0], [4.0, 0.0]]


def test_a_category_the_model_does_not_know_is_left_out() -> None:
    corrections = Corrections()
    corrections.add(SHELL, "NEW-CATEGORY")

    assert corrections.matrix("key", [SHELL], {"FUEL": 0}, weight=4.0).nnz == 0
