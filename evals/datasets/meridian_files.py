"""Meridian's import folder (docs/data-format.md): the tables of meridian_tables.py and the expenses and
budgets evals/datasets/meridian.py drew, as CSV files, the approval policy and the approval history."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evals.datasets.meridian_tables import (
    CATEGORIES,
    CURRENCY,
    FINANCE_PARTNER,
    KNOWN_REQUEST,
    MANAGER_OF,
    MERCHANTS,
    PENDING_REQUEST,
    PEOPLE,
    POLICY,
    SLUG,
    TEAM_OF,
    TEAMS,
    USD_RATE,
    email,
)
from evals.datasets.synthetic import money

if TYPE_CHECKING:
    from evals.datasets.meridian import Absence, Row

Line = dict[str, str]


def write_folder(
    folder: Path,
    rows: Sequence[Row],
    budgets: Mapping[tuple[str, str], int],
    absences: Mapping[str, Absence],
    today: dt.date,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # The company states its auto-apply threshold (as the demo does): the scenarios name which answers
    # are confident, and a company this small could not show 97% precision from its own held-out answers.
    company = {"slug": SLUG, "name": "Meridian Analytics GmbH", "currency": CURRENCY}
    _write(folder / "company.csv", [{**company, "categorize_auto_apply_threshold": "0.95"}])
    _write(folder / "teams.csv", _teams())
    _write(folder / "employees.csv", _employees(absences))
    _write(folder / "categories.csv", _categories())
    _write(folder / "expenses.csv", (_expense(row, today) for row in rows))
    _write(folder / "budgets.csv", _budgets(budgets))
    _write(folder / "approval_history.csv", _history(rows, today))
    _write(folder / "fx_rates.csv", [{"currency": "USD", "rate": USD_RATE}])
    (folder / "approval_policy.json").write_text(json.dumps(POLICY, indent=2) + "\n", encoding="utf-8")


def _teams() -> Iterator[Line]:
    for name, parent, manager, center in TEAMS:
        yield {"name": name, "parent": parent, "manager_email": email(manager), "cost_center": center}


def _employees(absences: Mapping[str, Absence]) -> Iterator[Line]:
    for person, team, manager, role, limit in PEOPLE:
        away = absences.get(person)
        yield {
            "email": email(person),
            "name": person.replace(".", " ").title(),
            "team": team,
            "manager_email": email(manager) if manager else "",
            "role": role,
            "approval_limit": limit,
            "out_of_office_from": away.first_day.isoformat() if away else "",
            "out_of_office_until": away.last_day.isoformat() if away else "",
            "delegate_email": (away.delegate or "") if away else "",
        }


def _categories() -> Iterator[Line]:
    for code, name, account, vat, description, mccs in CATEGORIES:
        yield {"code": code, "name": name, "gl_account": account, "vat_rate": vat, "description": description,
               "mcc_codes": mccs}  # fmt: skip


def _expense(row: Row, today: dt.date) -> Line:
    descriptor, mcc, *_ = MERCHANTS[row.merchant]
    return {
        "id": row.ref,
        "date": row.day.isoformat(),
        "employee_email": email(row.person),
        "descriptor": descriptor,
        "merchant": row.merchant,
        "mcc": mcc,
        "amount": money(row.amount),
        "currency": row.currency,
        "amount_company": money(row.company_amount) if row.company_amount is not None else "",
        "memo": row.memo,
        "status": "approved" if (today - row.day).days > 30 else "pending",
        "category_code": row.category or "",
        "receipt": str(row.receipt).lower(),
    }


def _budgets(budgets: Mapping[tuple[str, str], int]) -> Iterator[Line]:
    for (team, period), amount in sorted(budgets.items()):
        yield {"team": team, "period": period, "amount": money(amount), "currency": CURRENCY}


def _history(rows: Sequence[Row], today: dt.date) -> Iterator[Line]:
    """A request two days before every equipment or event purchase of 1,000 EUR or more; then a pending
    request (its first step decided) and an approved one with no expense yet."""
    large = [row for row in rows if row.category in ("EQUIPMENT", "EVENTS") and row.eur >= 1000_00]
    for number, row in enumerate(large, 1):
        request = _request(f"APR-{number:05d}", row.person, row.category or "", row.eur, row.day, row.ref)
        yield from _decided(request, _approvers(row.person, row.eur))
    pending = _request(PENDING_REQUEST, "kai.wagner", "EQUIPMENT", 7500_00, today - dt.timedelta(days=1))
    yield from _decided(
        {**pending, "status": "pending", "description": "GPU workstation for the ML team"}, ["tara.lindqvist"]
    )
    known_id, known_amount = KNOWN_REQUEST
    known = _request(known_id, "nina.park", "EVENTS", known_amount, today - dt.timedelta(days=10))
    approvers = ["olivia.grant", "helena.brandt", "ben.okafor"]
    yield from _decided({**known, "description": "Trade fair booth, December"}, approvers)


def _request(number: str, person: str, category: str, amount: int, spent: dt.date, expense: str = "") -> Line:
    """An approved request submitted two days before `spent`, at 09:00 UTC."""
    submitted = dt.datetime.combine(spent - dt.timedelta(days=2), dt.time(9), dt.UTC)
    return {
        "request_id": number,
        "requester_email": email(person),
        "team": TEAM_OF[person],
        "category_code": category,
        "amount": money(amount),
        "currency": CURRENCY,
        "description": "",
        "submitted_at": submitted.isoformat(),
        "status": "approved",
        "expense_id": expense,
    }


def _decided(request: Line, approvers: Sequence[str]) -> Iterator[Line]:
    """One line per step, five hours apart."""
    submitted = dt.datetime.fromisoformat(request["submitted_at"])
    for step, approver in enumerate(approvers, 1):
        decided = (submitted + dt.timedelta(hours=5 * step)).isoformat()
        yield {**request, "step": str(step), "approver_email": email(approver), "decision": "approved",
               "decided_at": decided}  # fmt: skip


def _approvers(person: str, amount: int) -> list[str]:
    """The team's manager (theirs when they are the manager); above 5,000 EUR also the next level up and
    the team's finance partner."""
    first = next(manager for name, _, manager, _ in TEAMS if name == TEAM_OF[person])
    if first == person:
        first = MANAGER_OF[person]
    if amount <= 5000_00:
        return [first]
    second = MANAGER_OF[first] or first
    return list(dict.fromkeys([first, second, FINANCE_PARTNER.get(TEAM_OF[person], "ada.novak")]))


def _write(path: Path, lines: Iterable[Line]) -> None:
    lines = list(lines)
    header = list(dict.fromkeys(key for line in lines for key in line))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, restval="")
        writer.writeheader()
        writer.writerows(lines)
