"""The review's planted cases (server/demo/review_cases.py): the key says what was written, and the
company around them is the one the other evals always saw."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path

from server.demo.review_cases import ANSWERS, MIN_CASES, POLICY_FILE, key_cases, plant_review_cases, read_key
from server.demo.review_key import Case, Row, approval_thresholds, duplicates, refunds, splits
from server.kit.expense_policy import ExpensePolicy
from tests.demo.company import TODAY, Company, generate

KINDS = {
    "receipt_required", "cap", "blocked", "weekend_spend", "keywords", "just_below_threshold",
    "duplicate", "split_purchase", "spike", "new_merchant", "round_numbers", "refund_without_charge",
}  # fmt: skip
ORIGINAL = 16  # expenses.csv's columns before card, receipt_id and country


def test_the_key_is_what_the_definitions_find_in_the_written_rows(small: Company) -> None:
    key = small.review_key
    assert key == read_key(small.folder / ANSWERS)
    assert [case for _, case in key] == key_cases(small.folder, small.expenses)
    refs = {e["id"] for e in small.expenses}
    assert all(set(case.refs) <= refs for _, case in key)


def test_every_rule_and_pattern_is_planted_at_its_rate(small: Company) -> None:
    planted = Counter(case.kind for origin, case in small.review_key if origin == "injected")
    assert set(planted) == KINDS
    assert min(planted.values()) >= 1, planted  # a small company may lack what a maker needs
    assert sorted(planted.values())[1] >= MIN_CASES, planted
    rules = {case.rule for _, case in small.review_key if case.rule}
    policy = json.loads((small.folder / POLICY_FILE).read_text(encoding="utf-8"))
    assert rules == {rule["id"] for rule in policy["rules"]}
    ExpensePolicy.model_validate(policy)


def test_planting_appends_rows_and_leaves_the_company_alone(small: Company, tmp_path: Path) -> None:
    plain = generate(tmp_path / "plain", review_cases=False)
    for name in sorted(p.name for p in plain.folder.iterdir()):
        if name not in ("expenses.csv", "answer_key.csv"):
            assert (plain.folder / name).read_bytes() == (small.folder / name).read_bytes(), name
    assert small.expenses[: len(plain.expenses)] == plain.expenses
    added = small.expenses[len(plain.expenses) :]
    assert len(added) == small.summary.expenses - plain.summary.expenses > 0
    key = (small.folder / "answer_key.csv").read_text(encoding="utf-8")
    assert key.startswith((plain.folder / "answer_key.csv").read_text(encoding="utf-8"))
    assert not (plain.folder / ANSWERS).exists()
    planted = {e["id"] for e in added}
    flagged = {case.refs[0] for origin, case in small.review_key if origin == "injected"}
    assert flagged <= planted


def test_planting_draws_from_its_own_stream(small: Company, tmp_path: Path) -> None:
    again = generate(tmp_path / "again")
    for name in ("expenses.csv", ANSWERS, POLICY_FILE):
        assert (again.folder / name).read_bytes() == (small.folder / name).read_bytes(), name


def test_the_original_columns_of_every_written_row_are_unchanged(small: Company) -> None:
    with (small.folder / "expenses.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[ORIGINAL:] == ["card", "receipt_id", "country"]
    cards = {e["card"] for e in small.expenses if e["payment_type"] == "card"}
    assert all(card.startswith("**** ") for card in cards)
    assert not any(e["card"] for e in small.expenses if e["payment_type"] != "card")
    receipts = [e["receipt_id"] for e in small.expenses if e["receipt_id"]]
    assert all(e["receipt_id"] for e in small.expenses if e["receipt"] == "true")
    planted_twice = {c.refs[0] for _, c in small.review_key if c.kind == "duplicate"}
    assert len(receipts) - len(set(receipts)) <= len(planted_twice)


def test_a_company_past_the_keyed_size_gets_the_policy_only(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    planted = plant_review_cases(folder, 7, dt.date(2024, 1, 1), TODAY, written=10**7)
    assert (planted.expenses, planted.injected, planted.natural) == (0, 0, 0)
    assert (folder / POLICY_FILE).is_file()
    assert not (folder / ANSWERS).exists()


def _row(order: int, ref: str, day: str, amount: str, **values: str) -> Row:
    cells = {
        "id": ref, "date": day, "employee_email": "a@x.example", "team": "Ops", "merchant": "Acme Tools",
        "descriptor": "ACME TOOLS", "mcc": "5251", "amount": amount, "currency": "EUR", "amount_company": "",
        "memo": "", "category_code": "OFFICE", "receipt": "true", "receipt_id": "", "card": "", "country": "",
    }  # fmt: skip
    return Row.of(order, cells | values)


def test_definitions_of_docs_review_md_on_small_cases() -> None:
    rows = [
        _row(0, "A", "2026-03-02", "80.00"),
        _row(1, "B", "2026-03-04", "80.00"),  # a repeat of A within 3 days
        _row(2, "C", "2026-03-09", "15.00"),  # under the floor: a habit
        _row(3, "D", "2026-03-10", "15.00"),
        _row(4, "E", "2026-03-20", "1300.00"),
        _row(5, "F", "2026-03-21", "1300.00", descriptor="ACME TOOLS 2"),  # two parts over 2,500.01
        _row(6, "G", "2026-04-01", "-900.00", merchant="Nowhere"),  # a refund of nothing
    ]
    assert list(duplicates([r for r in rows if r.minor > 0], 3)) == [
        Case("duplicate", None, ("B", "A")),
        Case("duplicate", None, ("F", "E")),
    ]
    limits = approval_thresholds({"rules": [{"when": {"amount_over": "2500"}}]})
    assert list(splits([r for r in rows if r.minor > 0], 3, limits)) == [
        Case("split_purchase", None, ("F", "E"))
    ]
    assert list(refunds(rows, 120)) == [Case("refund_without_charge", None, ("G",))]


def test_approval_thresholds_leave_out_what_applies_to_some_people_only() -> None:
    document = {
        "rules": [
            {"when": {}},
            {"when": {"amount_over": "5000"}},
            {"when": {"requester_role_in": ["director"], "amount_over": "2000"}},
            {"when": {"payment_type_in": ["invoice"], "amount_over": "10000"}},
            {"when": {"category_in": ["HARDWARE"], "amount_over": "1500"}},
        ]
    }
    found = [(t.minor, t.categories) for t in approval_thresholds(document)]
    assert found == [(500_001, None), (150_001, frozenset({"HARDWARE"}))]
