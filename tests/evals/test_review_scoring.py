"""`outlay eval review`'s scoring (evals/review_scoring.py) and report, on hand-made keys and findings."""

from __future__ import annotations

from evals.review_report import markdown
from evals.review_scoring import PATTERN_KINDS, RULE_KINDS, Score, score, score_all
from server.demo.review_key import Case


def _dup(*refs: str) -> Case:
    return Case("duplicate", None, refs)


def test_a_finding_matches_a_case_of_its_label_sharing_an_expense() -> None:
    key = [_dup("B", "A"), _dup("D", "C"), _dup("F", "E")]
    findings = [_dup("A", "B"), _dup("D", "X"), _dup("Y", "Z")]  # either order; one shared; none
    assert score("duplicate", key, findings) == Score("duplicate", 3, 2, 3, 2)


def test_a_case_found_twice_is_recalled_once_and_both_findings_are_right() -> None:
    key = [Case("split_purchase", None, ("C", "B", "A"))]
    findings = [Case("split_purchase", None, ("B", "A")), Case("split_purchase", None, ("C", "B"))]
    found = score("split_purchase", key, findings)
    assert (found.recall, found.precision) == (1.0, 1.0)


def test_precision_and_recall_are_none_when_there_is_nothing_to_divide() -> None:
    nothing = score("spike", [], [])
    assert (nothing.precision, nothing.recall) == (None, None)
    assert nothing.meets_target()


def test_rules_are_scored_per_rule_and_pooled_per_kind_and_labels_do_not_mix() -> None:
    key = [
        Case("cap", "meals", ("A",)),
        Case("cap", "hotel", ("B",)),
        Case("cap", "hotel", ("C",)),
        Case("spike", None, ("D",)),
    ]
    findings = [
        Case("cap", "meals", ("A",)),
        Case("cap", "hotel", ("B",)),
        Case("cap", "meals", ("C",)),  # the right expense under the wrong rule: false, and C is missed
        Case("duplicate", None, ("D", "A")),  # the right expense under the wrong pattern
    ]
    scores = score_all(key, findings)
    assert [s.label for s in scores["rule_kinds"]] == list(RULE_KINDS)
    assert [s.label for s in scores["patterns"]] == list(PATTERN_KINDS)
    by_rule = {s.label: s for s in scores["rules"]}
    assert by_rule["cap:meals"] == Score("cap:meals", 1, 1, 2, 1)
    assert by_rule["cap:hotel"] == Score("cap:hotel", 2, 1, 1, 1)
    cap = next(s for s in scores["rule_kinds"] if s.label == "cap")
    assert cap == Score("cap", 3, 2, 3, 2)
    assert not cap.meets_target()
    patterns = {s.label: s for s in scores["patterns"]}
    assert patterns["spike"] == Score("spike", 1, 0, 0, 0)
    assert patterns["duplicate"] == Score("duplicate", 0, 0, 1, 0)


def test_targets_are_per_rule_kind_and_per_pattern() -> None:
    assert Score("cap:meals", 100, 95, 100, 95).meets_target()
    assert not Score("cap", 100, 94, 100, 100).meets_target()
    assert Score("spike", 100, 85, 100, 90).meets_target()
    assert not Score("spike", 100, 90, 100, 84).meets_target()


def test_the_report_puts_the_targets_first_and_names_misses() -> None:
    row = {"label": "cap", "cases": 2, "recalled": 1, "findings": 1, "correct": 1}
    row |= {"precision": 1.0, "recall": 0.5, "target": 0.95, "met": False}
    report = {
        "backend": "sqlite",
        "demo": {
            "size": "40x6",
            "seed": 7,
            "expenses": 2100,
            "key": {"injected": 2},
            "findings": 1,
            "import_seconds": 1.0,
            "review_seconds": 0.5,
            "targets_met": False,
            "rule_kinds": [row],
            "patterns": [],
            "rules": [row],
            "injected_recall": {"cap": 0.5},
            "missed": {"cap": [["B"]]},
            "unexpected": {},
        },
        "real_skipped": "Skipped: no datasets folder at /nowhere (pass --datasets or set OUTLAY_DATASETS).",
    }
    text = markdown(report)
    assert "NOT met" in text.split("## Per rule kind")[0]
    assert "| cap | 2 | 1 | 1 | 1 | 100.0% | 50.0% | >= 95% | **no** |" in text
    assert "- cap: B" in text
    assert "Skipped: no datasets folder at /nowhere" in text
