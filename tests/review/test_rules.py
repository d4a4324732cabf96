"""Each rule kind of the expense policy: what it flags, and the near miss it leaves alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.review.make import DAY, context, expense, policy
from tools.review.engine import review
from tools.review.findings import Finding, Threshold


def found(rules: list[dict[str, Any]], *expenses: Any, **fields: Any) -> list[Finding]:
    return review(list(expenses), context(policy(rules), **fields))


def flagged(findings: list[Finding]) -> list[tuple[str, str | None, tuple[int, ...]]]:
    return [(f.kind, f.rule, f.expense_ids) for f in findings]


RECEIPT: dict[str, Any] = {
    "kind": "receipt_required",
    "id": "receipts",
    "above": "75",
    "categories": ["MEALS"],
}


def test_a_receipt_is_required_above_the_amount_in_the_categories_named() -> None:
    missing = expense(amount=7_501, category="MEALS", receipt_present=False)
    at_the_amount = expense(amount=7_500, category="MEALS", receipt_present=False)
    with_receipt = expense(amount=9_000, category="MEALS", receipt_present=True)
    with_receipt_id = expense(amount=9_000, category="MEALS", receipt_present=False, receipt_id="R-1")
    other_category = expense(amount=9_000, category="TRAVEL", receipt_present=False)
    refund = expense(amount=-9_000, category="MEALS", receipt_present=False)
    findings = found([RECEIPT], missing, at_the_amount, with_receipt, with_receipt_id, other_category, refund)
    assert flagged(findings) == [("receipt_required", "receipts", (missing.id,))]
    assert findings[0].severity == "medium"
    assert findings[0].amount_minor == 7_501
    assert findings[0].evidence["required_above"] == "75 EUR"


def test_a_cap_per_expense_uses_the_country_where_it_was_spent() -> None:
    rule = {"kind": "cap", "id": "hotel", "per": "expense", "amount": "200", "countries": {"CH": "300"}}
    over = expense(amount=20_050)
    at_cap = expense(amount=20_000)
    swiss_under = expense(amount=29_000, country="CH")
    swiss_over = expense(amount=30_100, country="CH")
    findings = found([rule], over, at_cap, swiss_under, swiss_over)
    assert sorted(flagged(findings)) == sorted(
        [("cap", "hotel", (over.id,)), ("cap", "hotel", (swiss_over.id,))]
    )
    by_id = {f.expense_ids[0]: f for f in findings}
    assert by_id[swiss_over.id].amount_minor == 100  # the excess is at stake
    assert by_id[swiss_over.id].evidence["cap in CH"] == "300 EUR"


def test_a_cap_per_expense_in_the_company_country_when_the_expense_names_none() -> None:
    rule = {"kind": "cap", "id": "hotel", "per": "expense", "amount": "200", "countries": {"CH": "300"}}
    home = expense(amount=25_000)
    assert found([rule], home, company_country="CH") == []
    assert len(found([rule], home, company_country="DE")) == 1


def test_a_cap_per_day_adds_up_one_persons_day() -> None:
    rule = {"kind": "cap", "id": "meals", "per": "day", "amount": "60", "categories": ["MEALS"]}
    lunch = expense(amount=3_500, category="MEALS")
    dinner = expense(amount=3_000, category="MEALS")
    taxi = expense(amount=5_000, category="TRAVEL")
    colleague = expense(amount=5_900, category="MEALS", employee="bo@acme.test")
    next_day = expense(amount=5_000, category="MEALS", day=DAY + dt.timedelta(days=1))
    findings = found([rule], lunch, dinner, taxi, colleague, next_day)
    assert flagged(findings) == [("cap", "meals", (lunch.id, dinner.id))]
    assert findings[0].amount_minor == 500
    assert findings[0].evidence["day_total"] == "65.00 EUR"


def test_a_cap_per_day_without_an_employee_is_per_card() -> None:
    rule = {"kind": "cap", "id": "meals", "per": "day", "amount": "60"}
    one = expense(amount=4_000, employee=None, card="**** 1111")
    two = expense(amount=4_000, employee=None, card="**** 1111")
    other_card = expense(amount=4_000, employee=None, card="**** 2222")
    assert flagged(found([rule], one, two, other_card)) == [("cap", "meals", (one.id, two.id))]


def test_blocked_merchant_category_codes_and_names() -> None:
    rule = {"kind": "blocked", "id": "no-cash", "mccs": ["6011"], "merchants": ["casino"]}
    cash = expense(mcc="6011", merchant="Sparkasse ATM")
    casino = expense(mcc="7995", merchant="Grand Casino Baden")
    in_descriptor = expense(mcc=None, merchant="Baden Entertainment", descriptor="CASINO BADEN 44")
    allowed = expense(mcc="5812", merchant="Casinobar Pizzeria")  # a part of a name: flagged too
    fine = expense(mcc="5812", merchant="Trattoria")
    findings = found([rule], cash, casino, in_descriptor, allowed, fine)
    assert {f.expense_ids[0] for f in findings} == {cash.id, casino.id, in_descriptor.id, allowed.id}
    assert all(f.severity == "high" for f in findings)
    assert {f.expense_ids[0]: f.evidence.get("blocked_mcc") for f in findings}[cash.id] == "6011"


def test_weekend_spend_and_public_holidays() -> None:
    rule = {"kind": "weekend_spend", "id": "no-weekend-meals", "categories": ["MEALS"]}
    saturday = expense(category="MEALS", day=dt.date(2026, 7, 11))
    holiday = expense(category="MEALS", day=dt.date(2026, 8, 3))
    weekday = expense(category="MEALS", day=dt.date(2026, 7, 10))
    sunday_travel = expense(category="TRAVEL", day=dt.date(2026, 7, 12))
    findings = found(
        [rule], saturday, holiday, weekday, sunday_travel, holidays=frozenset({dt.date(2026, 8, 3)})
    )
    assert {f.expense_ids[0] for f in findings} == {saturday.id, holiday.id}
    assert all(f.severity == "low" for f in findings)
    no_holidays = {**rule, "holidays": False}
    assert flagged(found([no_holidays], holiday, holidays=frozenset({dt.date(2026, 8, 3)}))) == []


def test_keywords_are_whole_words_in_the_descriptor_or_the_memo() -> None:
    rule = {"kind": "keywords", "id": "alcohol", "keywords": ["wine", "beer garden"]}
    memo = expense(memo="Team dinner, two bottles of WINE")
    descriptor = expense(descriptor="AUGUSTINER BEER GARDEN MUC")
    inside_a_word = expense(memo="Winery visit", descriptor="SWINE & CO")
    findings = found([rule], memo, descriptor, inside_a_word)
    assert {f.expense_ids[0] for f in findings} == {memo.id, descriptor.id}
    by_id = {f.expense_ids[0]: f for f in findings}
    assert by_id[memo.id].evidence["keyword_in_memo"] == "wine"


def test_just_below_the_approval_policys_thresholds() -> None:
    rule = {"kind": "just_below_threshold", "id": "sizing"}
    just_below = expense(amount=495_000)
    at_threshold = expense(amount=500_000)
    below_margin = expense(amount=474_999)
    hardware = expense(amount=148_000, category="HARDWARE")
    travel = expense(amount=148_000, category="TRAVEL")
    thresholds = (Threshold(150_000, frozenset({"HARDWARE"})),)
    findings = found(
        [rule],
        just_below,
        at_threshold,
        below_margin,
        hardware,
        travel,
        approval_thresholds_minor=(500_000,),
        thresholds=thresholds,
    )
    assert {f.expense_ids[0] for f in findings} == {just_below.id, hardware.id}


def test_just_below_the_rules_own_thresholds_in_the_policy_currency() -> None:
    rule = {"kind": "just_below_threshold", "id": "sizing", "thresholds": ["1000"], "margin_percent": "10"}
    in_usd = policy([rule]).model_copy(update={"currency": "USD"})
    # 1 USD = 0.9 EUR: the threshold is 900 EUR, the margin from 810 EUR.
    ctx = context(in_usd, policy_rate=(9, 10))
    just_below, too_low = expense(amount=81_000), expense(amount=80_999)
    assert [f.expense_ids for f in review([just_below, too_low], ctx)] == [(just_below.id,)]
    assert review([expense(amount=90_000)], ctx) == []


def test_a_rules_own_severity_and_the_clause_in_the_evidence() -> None:
    rule = RECEIPT | {"severity": "high", "description": "Receipts for every meal over 75 EUR."}
    findings = found([rule], expense(amount=8_000, category="MEALS", receipt_present=False))
    assert findings[0].severity == "high"
    assert findings[0].evidence["clause"] == "Receipts for every meal over 75 EUR."


def test_findings_are_sorted_by_severity_then_amount() -> None:
    rules: list[dict[str, Any]] = [
        {"kind": "blocked", "id": "b", "merchants": ["casino"]},
        {"kind": "weekend_spend", "id": "w"},
        RECEIPT | {"categories": None},
    ]
    small_casino = expense(amount=1_000, merchant="Casino", receipt_present=True)
    weekend = expense(amount=90_000, day=dt.date(2026, 7, 11))
    no_receipt = expense(amount=20_000, receipt_present=False)
    big_no_receipt = expense(amount=30_000, receipt_present=False)
    kinds = [
        (f.kind, f.expense_ids[0]) for f in found(rules, small_casino, weekend, no_receipt, big_no_receipt)
    ]
    assert kinds == [
        ("blocked", small_casino.id),
        ("receipt_required", big_no_receipt.id),
        ("receipt_required", no_receipt.id),
        ("weekend_spend", weekend.id),
    ]
