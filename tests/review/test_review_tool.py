"""review_expenses through an in-memory MCP client, on both backends (tests/review/conftest.py plants
the findings)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.world import call_error, call_ok

pytestmark = pytest.mark.anyio

JULY = {
    "duplicate": 1,
    "new_merchant": 2,
    "refund_without_charge": 1,
    "round_numbers": 1,
    "spike": 1,
    "split_purchase": 1,
}


def refs(finding: dict[str, Any]) -> list[str]:
    return [expense["id"] for expense in finding["expenses"]]


async def test_a_months_review_finds_what_was_planted(acme: Client) -> None:
    review = await call_ok(acme, "review_expenses", {"period": "2026-07", "limit": 100})
    assert review["summary"] == JULY
    assert review["total"] == 7
    assert review["next_cursor"] is None
    assert review["policy_version"] is None
    assert "only the patterns ran" in review["note"]
    found = {finding["kind"]: finding for finding in review["findings"]}
    assert refs(found["duplicate"]) == ["EXP-D2", "EXP-D1"]
    assert refs(found["split_purchase"]) == ["EXP-S2", "EXP-S1"]
    assert found["split_purchase"]["amount_at_stake"] == {"amount": "5500.00", "currency": "EUR"}
    assert refs(found["refund_without_charge"]) == ["EXP-R1"]
    assert refs(found["spike"]) == ["EXP-K1"]
    assert refs(found["round_numbers"]) == ["EXP-O3", "EXP-O2", "EXP-O1"]
    severities = [finding["severity"] for finding in review["findings"]]
    assert severities == sorted(severities, key=["high", "medium", "low"].index)
    assert found["duplicate"]["expenses"][0] == {
        "id": "EXP-D2",
        "date": "2026-07-08",
        "merchant": "Hotel Adlon",
        "employee": "ann@acme.example",
        "amount": {"amount": "189.90", "currency": "EUR"},
    }


async def test_pages_add_up_to_the_whole_review(acme: Client) -> None:
    whole = await call_ok(acme, "review_expenses", {"period": "2026-07", "limit": 100})
    seen: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"period": "2026-07", "limit": 3}
    while True:
        page = await call_ok(acme, "review_expenses", arguments)
        assert page["summary"] == JULY
        seen += page["findings"]
        if page["next_cursor"] is None:
            break
        arguments["cursor"] = page["next_cursor"]
    assert seen == whole["findings"]


async def test_a_cursor_is_good_for_its_own_arguments_only(acme: Client, globex: Client) -> None:
    page = await call_ok(acme, "review_expenses", {"period": "2026-07", "limit": 2})
    cursor = page["next_cursor"]
    message = await call_error(acme, "review_expenses", {"period": "2026-Q3", "limit": 2, "cursor": cursor})
    assert "not valid for these filters" in message
    message = await call_error(globex, "review_expenses", {"period": "2026-07", "limit": 2, "cursor": cursor})
    assert "not valid for these filters" in message


async def test_team_employee_and_category_narrow_the_scope(acme: Client) -> None:
    engineering = await call_ok(acme, "review_expenses", {"period": "2026-07", "team": "Engineering"})
    assert engineering["summary"] == {"new_merchant": 2, "refund_without_charge": 1, "split_purchase": 1}
    assert engineering["scope"]["team"] == "Engineering"
    carla = await call_ok(acme, "review_expenses", {"period": "2026-07", "employee": "Carla Diaz"})
    assert carla["summary"] == {"round_numbers": 1, "spike": 1}
    meals = await call_ok(acme, "review_expenses", {"period": "2026-07", "category": "meals"})
    assert meals["summary"] == {"spike": 1}
    assert meals["scope"]["category"] == "MEALS"


async def test_kinds_and_min_severity_filter_the_findings(acme: Client) -> None:
    high = await call_ok(acme, "review_expenses", {"period": "2026-07", "min_severity": "high"})
    assert high["summary"] == {"duplicate": 1, "split_purchase": 1, "spike": 1}
    kinds = await call_ok(acme, "review_expenses", {"period": "2026-07", "kinds": ["duplicate", "spike"]})
    assert kinds["summary"] == {"duplicate": 1, "spike": 1}


async def test_one_expense_gives_every_finding_it_is_part_of(acme: Client) -> None:
    original = await call_ok(acme, "review_expenses", {"expense_ids": ["EXP-D1"]})
    assert original["summary"] == {"duplicate": 1}
    assert refs(original["findings"][0]) == ["EXP-D2", "EXP-D1"]
    assert original["scope"]["period"] is None
    assert original["scope"]["expense_ids"] == ["EXP-D1"]


async def test_a_scope_without_expenses_says_so(acme: Client) -> None:
    review = await call_ok(acme, "review_expenses", {"period": "2024-01"})
    assert (review["total"], review["expenses_reviewed"], review["findings"]) == (0, 0, [])
    assert review["note"] == "No expenses in 2024-01: nothing to review, no findings."


async def test_unknown_names_and_ids_are_refused_with_suggestions(acme: Client) -> None:
    message = await call_error(acme, "review_expenses", {"period": "2026-07", "team": "Enginering"})
    assert "did you mean 'Engineering'" in message
    message = await call_error(acme, "review_expenses", {"expense_ids": ["EXP-D1", "EXP-999"]})
    assert "no expense with id 'EXP-999'; search_expenses lists the ids" in message


async def test_another_companys_expenses_never_show(acme: Client, globex: Client) -> None:
    review = await call_ok(globex, "review_expenses", {"period": "2026-07", "limit": 100})
    assert review["summary"] == {"duplicate": 1}
    assert review["currency"] == "USD"
    assert [e["amount"]["amount"] for e in review["findings"][0]["expenses"]] == ["410.00", "410.00"]
    one = await call_ok(acme, "review_expenses", {"expense_ids": ["EXP-D2"]})
    assert [e["amount"]["amount"] for e in one["findings"][0]["expenses"]] == ["189.90", "189.90"]


async def test_the_policy_in_force_is_checked_rule_by_rule(initech: Client) -> None:
    review = await call_ok(initech, "review_expenses", {"period": "2026-07", "limit": 100})
    assert review["policy_version"] == 2
    assert review["note"] is None
    flagged = sorted((f["kind"], f["rule"], refs(f)[0]) for f in review["findings"])
    assert flagged == [
        ("cap", "travel-cap", "EXP-I3"),
        ("cap", "travel-cap", "EXP-I8"),
        ("duplicate", None, "EXP-C2"),
        ("duplicate", None, "EXP-I7"),
        ("keywords", "alcohol", "EXP-I2"),
        ("receipt_required", "meal-receipts", "EXP-I1"),
        ("weekend_spend", "weekend-meals", "EXP-I5"),
    ]
    cap = next(f for f in review["findings"] if f["kind"] == "cap" and refs(f) == ["EXP-I3"])
    assert cap["amount_at_stake"] == {"amount": "50.00", "currency": "EUR"}
    assert cap["evidence"]["cap"] == "200 EUR"
    keywords = next(f for f in review["findings"] if f["kind"] == "keywords")
    assert keywords["evidence"]["clause"] == "No alcohol."
    card = next(f for f in review["findings"] if refs(f)[0] == "EXP-C2")
    assert [e["employee"] for e in card["expenses"]] == [None, None]


async def test_a_receipt_claimed_months_apart_is_found_from_either_side(initech: Client) -> None:
    later = await call_ok(initech, "review_expenses", {"period": "2026-09", "kinds": ["duplicate"]})
    assert [refs(f) for f in later["findings"]] == [["EXP-I9", "EXP-I8"]]
    earlier = await call_ok(initech, "review_expenses", {"expense_ids": ["EXP-I8"], "kinds": ["duplicate"]})
    assert [refs(f) for f in earlier["findings"]] == [["EXP-I9", "EXP-I8"]]


async def test_a_persons_review_holds_the_companys_findings_they_flag(acme: Client, initech: Client) -> None:
    """A narrowed scope reads its history differently (its payers' other expenses, anyone's charges of
    its merchants and amounts, never its own twice): its findings must be the whole review's."""
    for client in (acme, initech):
        whole = await call_ok(client, "review_expenses", {"period": "2026-07", "limit": 100})
        people = {f["expenses"][0]["employee"] for f in whole["findings"]} - {None}
        assert len(people) >= 2
        for person in sorted(people):
            arguments = {"period": "2026-07", "employee": person, "limit": 100}
            own = await call_ok(client, "review_expenses", arguments)
            assert own["findings"] == [f for f in whole["findings"] if f["expenses"][0]["employee"] == person]
