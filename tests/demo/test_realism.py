"""The demo company behaves like a real one: seniority, backlog, approvals, subscriptions, budgets.

All but the last test use the shared small company; the last one builds the default size once.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import iso18245
import pytest

from server.demo import write_demo_company
from server.demo.categories import CATEGORIES
from server.demo.labels import BACKLOG_DAYS
from server.demo.merchants import MERCHANTS
from server.demo.places import CITIES, CONFERENCES
from server.demo.profiles import PROFILES
from server.demo.shop import Shop
from server.demo.subscriptions import PLANS
from server.demo.teams import TEAM_CATALOGUE, team_count
from tests.demo.company import TODAY, Company, Rows


def test_roles_and_limits_grow_with_seniority(small: Company) -> None:
    limits: dict[str, set[str]] = defaultdict(set)
    for person in small.employees:
        limits[person["role"]].add(person["approval_limit"])
    expected = {
        "employee": "",
        "manager": "5000.00",
        "it_lead": "10000.00",
        "director": "25000.00",
        "finance": "50000.00",
    }
    assert {"ceo", "cfo", "finance", "director", "employee"} <= set(limits) <= {"ceo", "cfo", *expected}
    for role, values in limits.items():
        if role in expected:
            assert values == {expected[role]}, role
    assert Decimal(limits["cfo"].pop()) > 25000
    assert Decimal(limits["ceo"].pop()) > 25000


def test_recent_expenses_are_the_uncategorized_backlog(small: Company) -> None:
    backlog_from = (TODAY - dt.timedelta(days=BACKLOG_DAYS - 1)).isoformat()
    recent = [e for e in small.expenses if e["date"] >= backlog_from]
    older = [e for e in small.expenses if e["date"] < backlog_from]
    assert recent
    assert all(e["category_code"] == "" and e["category_source"] == "" for e in recent)
    stragglers = [e for e in older if e["category_code"] == ""]
    assert 0 < len(stragglers) < 0.02 * len(older)


def test_old_expenses_are_settled_and_recent_ones_pending(small: Company) -> None:
    week = [e["status"] for e in small.expenses if e["date"] > (TODAY - dt.timedelta(days=7)).isoformat()]
    old = [e for e in small.expenses if e["date"] < (TODAY - dt.timedelta(days=60)).isoformat()]
    assert week.count("pending") > 0.7 * len(week)
    assert sum(e["status"] != "pending" for e in old) > 0.98 * len(old)
    assert all(
        e["status"] == "reimbursed"
        for e in old
        if e["payment_type"] == "reimbursement" and e["status"] != "rejected" and e["status"] != "pending"
    )
    assert all(e["status"] != "reimbursed" for e in small.expenses if e["payment_type"] != "reimbursement")
    with_receipt = [e["receipt"] == "true" for e in old]
    assert 0.85 < sum(with_receipt) / len(with_receipt) < 0.99


def test_approval_history_follows_the_policy(small: Company) -> None:
    for rows in small.requests().values():
        first = rows[0]
        requester = first["requester_email"]
        assert all(
            {k: r[k] for k in ("requester_email", "status", "amount")}
            == {k: first[k] for k in ("requester_email", "status", "amount")}
            for r in rows
        )
        assert [int(r["step"]) for r in rows] == list(range(1, len(rows) + 1))
        assert all(r["approver_email"] != requester for r in rows)
        times = [first["submitted_at"]] + [r["decided_at"] for r in rows]
        assert times == sorted(times, key=dt.datetime.fromisoformat)
        verdicts = [r["decision"] for r in rows]
        assert "rejected" not in verdicts[:-1]
        assert (first["status"] == "rejected") == (verdicts[-1] == "rejected")
        # Step 1 is the team manager (the requester's own manager when they manage the team).
        expected = small.team_by_name[first["team"]]["manager_email"]
        if expected == requester:
            expected = small.people[requester]["manager_email"]
        if expected:  # the CEO has nobody above: their chain starts with a later rule
            assert (first["on_behalf_of_email"] or first["approver_email"]) == expected


def test_delegates_decide_only_while_the_approver_is_away(small: Company) -> None:
    for row in small.history:
        absent = row["on_behalf_of_email"]
        if absent:
            person = small.people[absent]
            day = row["decided_at"][:10]
            assert person["out_of_office_from"] <= day <= person["out_of_office_until"]
            assert row["approver_email"] in (person["delegate_email"], person["manager_email"])


def test_expenses_follow_their_approval_requests(small: Company) -> None:
    status = {e["id"]: e["status"] for e in small.expenses}
    for rows in small.requests().values():
        expense = rows[0]["expense_id"]
        if expense:
            wanted = {
                "approved": {"approved", "reimbursed"},
                "rejected": {"rejected"},
                "pending": {"pending"},
            }
            assert status[expense] in wanted[rows[0]["status"]]


def test_subscriptions_bill_the_same_line_every_month(small: Company) -> None:
    workspace = [e for e in small.expenses if e["merchant"] == "Google Workspace"]
    assert len(workspace) == 6
    assert len({e["descriptor"] for e in workspace}) == 1
    assert len({e["date"][8:] for e in workspace}) == 1


def test_refunds_follow_an_earlier_charge(small: Company) -> None:
    planted = {case.refs[0] for origin, case in small.review_key if case.kind == "refund_without_charge"}
    refunds = [e for e in small.expenses if e["amount"].startswith("-") and e["id"] not in planted]
    assert refunds
    charges = {
        (e["employee_email"], e["descriptor"]): e for e in small.expenses if not e["amount"].startswith("-")
    }
    for refund in refunds:
        charge = charges[(refund["employee_email"], refund["descriptor"])]
        assert charge["date"] < refund["date"]
        assert -Decimal(refund["amount"]) <= Decimal(charge["amount"])


def test_trips_cluster_around_the_hotel_stay(small: Company) -> None:
    by_person: dict[str, list[dict[str, str]]] = defaultdict(list)
    for expense in small.expenses:
        by_person[expense["employee_email"]].append(expense)
    folios = [
        e
        for e in small.expenses
        if e["category_code"] == "TRAVEL-HOTEL"
        and e["merchant"] not in ("Booking.com", "Airbnb")
        and not e["amount"].startswith("-")
    ]
    assert folios
    clustered = 0
    for folio in folios:
        checkout = dt.date.fromisoformat(folio["date"])
        stay = {(checkout - dt.timedelta(days=d)).isoformat() for d in range(7)}
        on_the_road = [
            e
            for e in by_person[folio["employee_email"]]
            if e["date"] in stay
            and e["currency"] == folio["currency"]
            and e["category_code"] in ("MEALS", "MEALS-CLIENT", "TRAVEL-GROUND")
        ]
        clustered += bool(on_the_road)
    assert clustered > 0.9 * len(folios)


def test_catalogue_codes_are_real_mccs() -> None:
    merchants = [*MERCHANTS, *(p.merchant for p in PLANS), *(c.ticket for c in CONFERENCES)]
    codes = {m.mcc for m in merchants} | {code for c in CATEGORIES for code in c.mcc_codes}
    for code in sorted(codes):
        iso18245.get_mcc(code)  # raises for a code that is not in ISO 18245
    assert {m.category for m in merchants} <= {c.code for c in CATEGORIES}


def test_every_slot_has_merchants_where_people_spend() -> None:
    """A slot without a merchant in a city is silently skipped, so the catalogue must cover them."""
    shop = Shop(random.Random(0), MERCHANTS)
    for team in TEAM_CATALOGUE:
        profile = PROFILES[team.profile]
        for slot in [*profile.personal, *profile.shared, "laptop"]:
            assert shop.pool(slot, CITIES[team.home])[0], (slot, team.home)
        for city in profile.destinations:
            for slot in ("meal", "meal_client", "ground", "hotel"):
                assert shop.pool(slot, CITIES[city])[0], (slot, city)


def test_team_count_grows_gently_with_headcount() -> None:
    assert team_count(250) == 12
    assert 5 <= team_count(40) < 12 < team_count(5000) <= 40


@pytest.mark.slow
def test_default_company_is_realistic(tmp_path: Path) -> None:
    company = Company(tmp_path, write_demo_company(tmp_path, today=TODAY))
    assert 40_000 <= company.summary.expenses <= 80_000
    assert company.summary.teams == 12
    assert len(company.employees) == 250
    assert any(p["active"] == "false" for p in company.employees)
    assert any(t["parent"] not in ("", "Executive") for t in company.teams)  # departments have sub-teams
    assert any(r["on_behalf_of_email"] for r in company.history)
    assert any(r["decision"] == "rejected" for r in company.history)
    _assert_seasonal(company.expenses)
    _assert_label_noise(company.expenses)
    _assert_drifting_teams_overrun(company, company.summary.over_budget_teams)


def _assert_seasonal(expenses: Rows) -> None:
    per_month = Counter(e["date"][:7] for e in expenses)
    assert per_month["2025-08"] < 0.8 * per_month["2025-07"]
    assert per_month["2025-12"] < 0.8 * per_month["2025-11"]
    assert per_month["2025-10"] > per_month["2025-09"]


def _assert_label_noise(expenses: Rows) -> None:
    """Merchants with a single true category: ~3% of their human labels are a wrong category."""
    sure = {
        "Lufthansa": "TRAVEL-AIR",
        "Motel One": "TRAVEL-HOTEL",
        "Deutsche Bahn": "TRAVEL-RAIL",
        "Uber": "TRAVEL-GROUND",
        "Starbucks": "MEALS",
        "DHL": "SHIPPING",
        "Digi-Key": "PROTOTYPING",
    }
    labelled = [e for e in expenses if e["merchant"] in sure and e["category_source"] == "human"]
    wrong = [e for e in labelled if e["category_code"] != sure[e["merchant"]]]
    assert 0.01 < len(wrong) / len(labelled) < 0.06
    rules = [e for e in expenses if e["merchant"] in sure and e["category_source"] == "rule"]
    assert rules
    assert all(e["category_code"] == sure[e["merchant"]] for e in rules)


def _assert_drifting_teams_overrun(company: Company, drifting: tuple[str, ...]) -> None:
    spent: dict[tuple[str, str], float] = defaultdict(float)
    for expense in company.expenses:
        quarter = f"{expense['date'][:4]}-Q{(int(expense['date'][5:7]) - 1) // 3 + 1}"
        spent[(expense["team"], quarter)] += float(expense["amount_company"] or expense["amount"])
    ratios: dict[str, list[float]] = defaultdict(list)
    for budget in company.budgets:
        if not budget["category_code"] and budget["period"] != "2026-Q2":  # the current quarter is partial
            ratios[budget["team"]].append(spent[(budget["team"], budget["period"])] / float(budget["amount"]))
    assert drifting
    for team in drifting:
        assert sum(ratios[team][-3:]) / 3 > 1.15, team
    steady = [sum(r[-3:]) / 3 for team, r in ratios.items() if team not in drifting]
    assert sorted(steady)[len(steady) // 2] < 1.15
