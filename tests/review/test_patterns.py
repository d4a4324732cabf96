"""Each pattern: what it finds, and the realistic near miss it must leave alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.review.make import DAY, context, days, expense, policy
from tools.review.engine import review
from tools.review.findings import Finding, ReviewedExpense, Threshold, Usual

ON = {"enabled": True}


def found(
    pattern: str,
    scope: list[ReviewedExpense],
    history: Sequence[ReviewedExpense] = (),
    **fields: Any,
) -> list[Finding]:
    settings = fields.pop("settings", ON)
    return review(scope, context(policy(**{pattern: settings}), history=tuple(history), **fields))


def ids(findings: list[Finding]) -> list[tuple[int, ...]]:
    return [f.expense_ids for f in findings]


# ---- duplicates ----------------------------------------------------------------------------------------


def test_the_same_charge_twice_by_the_same_person_within_the_window() -> None:
    first = expense(amount=18_990, day=DAY)
    again = expense(amount=18_990, day=DAY + days(2))
    findings = found("duplicates", [again], [first])
    assert ids(findings) == [(again.id, first.id)]
    assert findings[0].kind == "duplicate"
    assert findings[0].severity == "high"
    assert findings[0].amount_minor == 18_990


def test_a_repeat_after_the_window_or_of_another_amount_is_no_duplicate() -> None:
    first = expense(amount=18_990, day=DAY)
    late = expense(amount=18_990, day=DAY + days(4))
    other_amount = expense(amount=18_991, day=DAY + days(1))
    other_merchant = expense(amount=18_990, day=DAY + days(1), merchant_id=2, merchant="Hotel Bristol")
    assert found("duplicates", [late, other_amount, other_merchant], [first]) == []


def test_the_same_coffee_two_days_running_is_no_duplicate() -> None:
    coffee = [expense(amount=320, merchant="Pret", day=DAY + days(n)) for n in range(2)]
    lunch = [expense(amount=1_990, merchant="Canteen", merchant_id=3, day=DAY) for _ in range(2)]
    assert found("duplicates", coffee + lunch) == []


def test_the_same_invoice_paid_by_two_people() -> None:
    ana = expense(amount=45_000, employee="ana@acme.test", descriptor="ACME EVENTS INV 2231")
    bo = expense(
        amount=45_000, employee="bo@acme.test", descriptor="ACME EVENTS  inv 2231", day=DAY + days(1)
    )
    assert ids(found("duplicates", [ana, bo])) == [(bo.id, ana.id)]


def test_two_people_paying_the_same_small_amount_at_a_busy_merchant_is_chance() -> None:
    ana = expense(amount=2_450, employee="ana@acme.test", merchant="Uber", descriptor="UBER *TRIP")
    bo = expense(amount=2_450, employee="bo@acme.test", merchant="Uber", descriptor="UBER *TRIP")
    assert found("duplicates", [ana, bo]) == []
    other_text = expense(amount=45_000, employee="ana@acme.test", descriptor="UBER* EATS 4KX2")
    other_text_bo = expense(amount=45_000, employee="bo@acme.test", descriptor="UBER* EATS 9QZ1")
    assert found("duplicates", [other_text, other_text_bo]) == []


def test_a_price_many_people_pay_is_no_duplicate() -> None:
    tickets = [expense(amount=95_000, employee=f"p{n}@acme.test", merchant="KubeCon") for n in range(3)]
    assert found("duplicates", tickets) == []


def test_a_monthly_subscription_is_no_duplicate() -> None:
    def bill(day_offset: int, team: str) -> ReviewedExpense:
        return expense(amount=13_500, merchant="GitHub", team=team, employee=None, day=DAY + days(day_offset))

    history = [bill(-30, "Sales"), bill(-30, "Ops")]
    this_month = [bill(0, "Sales"), bill(0, "Ops")]
    assert found("duplicates", this_month, history) == []


def test_the_same_receipt_claimed_twice_whatever_the_amounts() -> None:
    first = expense(amount=5_000, receipt_id="RCPT-77", day=DAY - days(40))
    again = expense(amount=4_000, receipt_id=" rcpt-77", merchant_id=9, employee="bo@acme.test")
    findings = found("duplicates", [again], [first])
    assert ids(findings) == [(again.id, first.id)]
    assert findings[0].evidence["receipt_id"] == " rcpt-77"


def test_a_duplicate_belongs_to_the_review_of_its_repeat() -> None:
    first = expense(amount=18_990, day=DAY)
    again = expense(amount=18_990, day=DAY + days(1))
    ctx = context(policy(duplicates=ON), history=(first, again))
    assert review([first], ctx) == []
    assert ids(review([first], ctx, involving=True)) == [(again.id, first.id)]


# ---- split purchases -----------------------------------------------------------------------------------

LIMIT = (500_000,)


def test_charges_at_one_merchant_each_under_a_threshold_adding_up_over_it() -> None:
    one = expense(amount=300_000, merchant="Dell", day=DAY)
    two = expense(amount=250_000, merchant="Dell", day=DAY + days(2))
    findings = found("split_purchases", [one, two], approval_thresholds_minor=LIMIT)
    assert ids(findings) == [(two.id, one.id)]
    assert findings[0].kind == "split_purchase"
    assert findings[0].amount_minor == 550_000
    assert "5000.00 EUR" in findings[0].evidence["threshold"]


def test_no_split_when_they_stay_under_come_later_or_are_someone_elses() -> None:
    one = expense(amount=300_000, merchant="Dell", day=DAY)
    under = expense(amount=150_000, merchant="Dell", day=DAY + days(1))
    late = expense(amount=300_000, merchant="Dell", day=DAY + days(4))
    colleague = expense(amount=300_000, merchant="Dell", employee="bo@acme.test", day=DAY + days(1))
    over_alone = expense(amount=600_000, merchant="Dell", day=DAY + days(1))
    for other in (under, late, colleague, over_alone):
        assert found("split_purchases", [one, other], approval_thresholds_minor=LIMIT) == [], other


def test_small_parts_adding_up_are_a_habit_not_a_split() -> None:
    meals = [expense(amount=18_000, merchant="Canteen", day=DAY + days(n // 2)) for n in range(6)]
    assert found("split_purchases", meals, approval_thresholds_minor=(100_000,)) == []


def test_a_split_is_reported_once_by_the_charge_that_crossed() -> None:
    parts = [expense(amount=200_000, merchant="Dell", day=DAY + days(n)) for n in range(4)]
    findings = found("split_purchases", parts, approval_thresholds_minor=LIMIT)
    assert ids(findings) == [(parts[2].id, parts[1].id, parts[0].id)]


def test_a_card_limit_and_category_thresholds() -> None:
    settings = {"card_limit": "1000"}
    one, two = expense(amount=60_000, merchant="Apple"), expense(amount=45_000, merchant="Apple")
    assert ids(found("split_purchases", [one, two], settings=settings)) == [(two.id, one.id)]
    at_limit = expense(amount=100_000, merchant="Apple")  # a charge at the limit is allowed: a part
    assert ids(found("split_purchases", [one, at_limit], settings=settings)) == [(at_limit.id, one.id)]
    hardware = (Threshold(150_000, frozenset({"HARDWARE"})),)
    travel = [expense(amount=100_000, merchant="Lufthansa") for _ in range(2)]
    assert found("split_purchases", travel, thresholds=hardware) == []
    kit = [expense(amount=100_000, merchant="Apple", category="HARDWARE") for _ in range(2)]
    assert len(found("split_purchases", kit, thresholds=hardware)) == 1


# ---- spikes --------------------------------------------------------------------------------------------


def usual(count: int = 10, mean: int = 5_000, largest: int | None = 9_000) -> Usual:
    return Usual(count=count, total_minor=count * mean, max_minor=largest)


def spike_context(own: Usual, team: Usual, merchant: Usual | None = None) -> dict[str, Any]:
    month = DAY.replace(day=1)
    return {
        "employee_usual": {("ana@acme.test", "TRAVEL", month): own},
        "team_usual": {("Sales", "TRAVEL", month): team},
        "merchant_usual": {(1, month): merchant or usual(count=200, mean=4_000, largest=None)},
    }


def test_a_spike_against_the_persons_and_the_teams_usual() -> None:
    big = expense(amount=60_000)
    findings = found("spikes", [big], **spike_context(usual(), usual(count=80, mean=6_000, largest=None)))
    assert ids(findings) == [(big.id,)]
    assert findings[0].severity == "high"  # 12 times the mean: over twice the factor
    assert findings[0].evidence["employee_mean"] == "50.00 EUR over 10 expenses (12 months before)"


def test_no_spike_without_enough_history_or_when_usual_for_the_team() -> None:
    big = expense(amount=30_000)
    team = usual(count=80, mean=5_500, largest=None)
    assert found("spikes", [big], **spike_context(usual(count=7), team)) == []
    assert found("spikes", [big], **spike_context(usual(), usual(count=80, mean=7_000, largest=None))) == []
    assert found("spikes", [big], **spike_context(usual(largest=30_000), team)) == []
    assert found("spikes", [expense(amount=25_000)], **spike_context(usual(), team)) == []
    assert len(found("spikes", [big], **spike_context(usual(), team))) == 1
    pricey_merchant = usual(count=200, mean=10_000, largest=None)  # what this merchant costs anyone
    assert found("spikes", [big], **spike_context(usual(), team, pricey_merchant)) == []
    new_merchant = usual(count=2, mean=1_000, largest=None)
    assert found("spikes", [big], **spike_context(usual(), team, new_merchant)) == []


# ---- new merchants -------------------------------------------------------------------------------------


def test_a_large_first_charge_at_a_merchant_new_to_the_company() -> None:
    first = expense(amount=250_000, merchant_id=7, merchant="Acme Consulting Ltd")
    second = expense(amount=300_000, merchant_id=7, merchant="Acme Consulting Ltd")
    old = expense(amount=250_000, merchant_id=8, merchant="Dell")
    small = expense(amount=100_000, merchant_id=9, merchant="Tiny Ltd")
    seen = {7: DAY, 8: DAY - days(300), 9: DAY}
    findings = found("new_merchant", [first, second, old, small], first_seen=seen)
    assert ids(findings) == [(first.id,)]
    assert findings[0].evidence["first_charge_above"] == "1000 EUR"


# ---- round-number runs ---------------------------------------------------------------------------------


def test_a_run_of_round_amounts_by_one_person_at_one_merchant() -> None:
    run = [expense(amount=10_000 * (n + 1), merchant="Taxi Huber", day=DAY + days(9 * n)) for n in range(4)]
    findings = found("round_numbers", run[1:], run[:1])
    assert ids(findings) == [(run[2].id, run[1].id, run[0].id)]
    assert findings[0].severity == "low"


def test_round_amounts_too_far_apart_or_not_quite_round_are_no_run() -> None:
    spread = [expense(amount=5_000, merchant="Taxi", day=DAY + days(16 * n)) for n in range(3)]
    assert found("round_numbers", spread) == []
    almost = [expense(amount=amount, merchant="Taxi", day=DAY) for amount in (5_000, 10_000, 10_001)]
    assert found("round_numbers", almost) == []


def test_round_in_the_currency_spent() -> None:
    usd = [expense(amount=9_213, original=10_000, currency="USD", merchant="Taxi NYC") for _ in range(3)]
    assert len(found("round_numbers", usd)) == 1


# ---- refunds -------------------------------------------------------------------------------------------


def test_a_refund_without_a_charge_at_the_merchant() -> None:
    refund = expense(amount=-40_000, merchant_id=4, merchant="Zalando")
    findings = found("refunds", [refund])
    assert ids(findings) == [(refund.id,)]
    assert findings[0].amount_minor == -40_000
    assert findings[0].evidence["charges_at_merchant"] == "0"


def test_a_refund_of_an_earlier_charge_by_anyone_within_the_lookback() -> None:
    charge = expense(amount=40_000, merchant_id=4, employee="bo@acme.test", day=DAY - days(100))
    partial = expense(amount=-15_000, merchant_id=4)
    assert found("refunds", [partial], [charge]) == []
    too_old = expense(amount=40_000, merchant_id=4, day=DAY - days(121))
    smaller = expense(amount=30_000, merchant_id=4, day=DAY - days(5))
    refund = expense(amount=-40_000, merchant_id=4)
    findings = found("refunds", [refund], [too_old, smaller])
    assert findings[0].evidence["charges_at_merchant"] == "1"


def test_a_foreign_currency_refund_matches_its_charge_as_spent() -> None:
    charge = expense(amount=9_100, original=10_000, currency="USD", merchant_id=4, day=DAY - days(10))
    refund = expense(amount=-9_300, original=-10_000, currency="USD", merchant_id=4)
    assert found("refunds", [refund], [charge]) == []
