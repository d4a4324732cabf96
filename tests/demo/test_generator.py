"""The demo generator's output: deterministic, in the documented format, internally consistent."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from server.demo import write_demo_company
from server.demo.fx import FX_TO_EUR
from tests.demo.company import TODAY, Company, generate, read

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-format.md"
CSV_FILES = (
    "company.csv",
    "teams.csv",
    "employees.csv",
    "categories.csv",
    "expenses.csv",
    "budgets.csv",
    "approval_history.csv",
    "fx_rates.csv",
    "category_rules.csv",
)


def _documented_columns() -> dict[str, list[str]]:
    """File name -> its columns, in order, from the tables of docs/data-format.md (a section of optional
    columns of a file, "## Card, receipt and country (optional columns of expenses.csv)", adds to it)."""
    columns: dict[str, list[str]] = {}
    current: str | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\S+\.csv)\b", line) or re.match(
            r"^## Card.*\(optional columns of (\S+\.csv)\)", line
        )
        if heading or line.startswith("## "):
            current = heading.group(1) if heading else None
            continue
        cell = re.match(r"^\| `([a-z_]+)` \|", line)
        if current and cell:
            columns.setdefault(current, []).append(cell.group(1))
    return columns


def test_same_arguments_write_the_same_bytes(small: Company, tmp_path: Path) -> None:
    again = generate(tmp_path / "again")
    for name in (*CSV_FILES, "approval_policy.json"):
        assert (small.folder / name).read_bytes() == (again.folder / name).read_bytes(), name
    assert again.summary == small.summary


def test_another_seed_gives_another_company(small: Company, tmp_path: Path) -> None:
    other = generate(tmp_path / "other", seed=8)
    for name in ("employees.csv", "expenses.csv"):
        assert (small.folder / name).read_bytes() != (other.folder / name).read_bytes(), name


def test_every_file_has_exactly_the_documented_columns(small: Company) -> None:
    documented = _documented_columns()
    assert set(documented) == set(CSV_FILES)
    for name in CSV_FILES:
        with (small.folder / name).open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == documented[name], name


def test_summary_counts_what_was_written(small: Company) -> None:
    summary = small.summary
    assert (summary.slug, summary.employees, summary.teams) == ("acme", 40, len(small.teams))
    assert summary.categories == len(small.categories) >= 25
    assert summary.expenses == len(small.expenses) > 1000
    assert summary.budgets == len(small.budgets) > 0
    assert summary.approval_requests == len(small.requests()) > 0
    assert summary.approval_decisions == len(small.history)
    assert summary.first_date == dt.date(2025, 12, 1)
    assert summary.last_date == TODAY
    assert read(small.folder, "company.csv") == [
        {
            "slug": "acme",
            "name": "Acme Robotics GmbH",
            "currency": "EUR",
            "categorize_review_threshold": "0.8",
            "categorize_auto_apply_threshold": "0.95",
            "categorize_target_precision": "0.97",
            "country": "DE",
        }
    ]


def test_references_between_files_resolve(small: Company) -> None:
    people, teams = small.people, small.team_by_name
    codes = {c["code"] for c in small.categories}
    for team in small.teams:
        assert team["parent"] in teams or (team["parent"] == "" and team["name"] == "Executive")
        assert team["manager_email"] in people
        assert team["cost_center"].startswith("CC-")
    assert len({t["cost_center"] for t in small.teams}) == len(small.teams)
    for person in small.employees:
        assert person["team"] in teams
        assert person["manager_email"] in people or person["role"] == "ceo"
        assert person["manager_email"] != person["email"]
        if person["delegate_email"]:
            assert person["delegate_email"] in people
            assert person["delegate_email"] != person["email"]
            assert person["out_of_office_from"] <= person["out_of_office_until"]
    for category in small.categories:
        assert category["parent_code"] in codes or category["parent_code"] == ""
    for expense in small.expenses:
        assert expense["employee_email"] in people
        assert expense["team"] in teams
        assert expense["category_code"] in codes or expense["category_code"] == ""
    for budget in small.budgets:
        assert budget["team"] in teams
        assert budget["currency"] == "EUR"
        assert budget["category_code"] in codes or budget["category_code"] == ""


def test_history_and_policy_reference_what_exists(small: Company) -> None:
    people, expense_ids = small.people, {e["id"] for e in small.expenses}
    codes = {c["code"] for c in small.categories}
    for row in small.history:
        assert row["requester_email"] in people
        assert row["approver_email"] in people
        assert row["on_behalf_of_email"] in people or row["on_behalf_of_email"] == ""
        assert row["expense_id"] in expense_ids or row["expense_id"] == ""
        assert row["category_code"] in codes
        assert row["team"] in small.team_by_name
    roles = {p["role"] for p in small.employees}
    for rule in small.policy["rules"]:
        when = rule["when"]
        assert set(when.get("category_in", [])) <= codes
        assert set(when.get("team_in", [])) <= set(small.team_by_name)
        assert set(when.get("requester_role_in", [])) <= roles
        for step in rule["steps"]:
            kind, _, argument = step.partition(":")
            assert kind in ("team_manager", "manager_of", "finance_team", "role", "employee")
            if kind == "role":
                assert argument in roles
            if kind == "employee":
                assert argument in people


def _assert_acyclic(parent_of: dict[str, str]) -> None:
    for start in parent_of:
        seen, node = {start}, parent_of[start]
        while node:
            assert node not in seen, f"cycle through {node}"
            seen.add(node)
            node = parent_of.get(node, "")


def test_hierarchies_have_no_cycles(small: Company) -> None:
    _assert_acyclic({t["name"]: t["parent"] for t in small.teams})
    _assert_acyclic({p["email"]: p["manager_email"] for p in small.employees})
    _assert_acyclic({c["code"]: c["parent_code"] for c in small.categories})
    assert [p["role"] for p in small.employees].count("ceo") == 1


def test_emails_are_unique_and_plain(small: Company) -> None:
    emails = [p["email"] for p in small.employees]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z-]+\.[a-z-]+[0-9]*@acme\.example", email) for email in emails)


def test_everything_happens_inside_the_window(small: Company) -> None:
    """From the first day of the first month; nothing after today (decisions: before today's midnight)."""
    first = small.summary.first_date.isoformat()
    assert first <= min(e["date"] for e in small.expenses)
    assert max(e["date"] for e in small.expenses) <= TODAY.isoformat()
    midnight = dt.datetime.combine(TODAY, dt.time(), dt.UTC)
    assert all(dt.datetime.fromisoformat(r["decided_at"]) < midnight for r in small.history)
    assert all(r["submitted_at"][:10] >= first for r in small.history)


def test_foreign_amounts_convert_with_the_fx_table(small: Company) -> None:
    assert {e["currency"] for e in small.expenses} == {"EUR", "GBP", "USD"}
    for expense in small.expenses:
        assert re.fullmatch(r"-?\d+\.\d\d", expense["amount"])
        if expense["currency"] == "EUR":
            assert expense["amount_company"] == ""
            continue
        converted = (Decimal(expense["amount"]) * FX_TO_EUR[expense["currency"]]).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_EVEN
        )
        assert Decimal(expense["amount_company"]) == converted, expense["id"]


def test_rejects_a_company_too_small_to_staff(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="employees"):
        write_demo_company(tmp_path, employees=5, today=TODAY)
