"""CSV and JSON output in the import format of docs/data-format.md.

Every file carries every documented column, in the documented order (empty cells where a value is
not given). Expenses and approval history are streamed month by month so that a 5,000-person,
three-year company never has to sit in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from server.db.models import (
    DEFAULT_AUTO_APPLY_THRESHOLD,
    DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_TARGET_PRECISION,
)
from server.demo.budgets import Budget
from server.demo.fx import COMPANY_CURRENCY, FX_TO_EUR
from server.demo.history import ApprovalRecord
from server.demo.model import Category, Org, Spend
from server.demo.subscriptions import Plan
from server.kit.merchants import merchant_key
from server.kit.money import currency_exponent

HEADERS: dict[str, tuple[str, ...]] = {
    "company.csv": (
        "slug",
        "name",
        "currency",
        "categorize_review_threshold",
        "categorize_auto_apply_threshold",
        "categorize_target_precision",
        "country",
    ),
    "teams.csv": ("name", "parent", "manager_email", "cost_center"),
    "employees.csv": (
        "email",
        "name",
        "team",
        "manager_email",
        "role",
        "approval_limit",
        "active",
        "out_of_office_from",
        "out_of_office_until",
        "delegate_email",
    ),
    "categories.csv": ("code", "name", "parent_code", "gl_account", "vat_rate", "description", "mcc_codes"),
    "expenses.csv": (
        "id",
        "date",
        "employee_email",
        "team",
        "descriptor",
        "merchant",
        "mcc",
        "amount",
        "currency",
        "amount_company",
        "memo",
        "status",
        "payment_type",
        "category_code",
        "category_source",
        "receipt",
        "card",
        "receipt_id",
        "country",
    ),
    "category_rules.csv": ("merchant", "category_code"),
    "budgets.csv": ("team", "category_code", "period", "amount", "currency"),
    "approval_history.csv": (
        "request_id",
        "requester_email",
        "team",
        "category_code",
        "amount",
        "currency",
        "amount_company",
        "payment_type",
        "description",
        "submitted_at",
        "status",
        "expense_id",
        "step",
        "approver_email",
        "on_behalf_of_email",
        "decision",
        "decided_at",
    ),
    "fx_rates.csv": ("currency", "rate", "valid_from"),
}
POLICY_FILE = "approval_policy.json"
# Not part of the import format: the category a careful bookkeeper gives each expense, mistakes and
# backlog aside. `outlay eval categorize --answer-key` scores the categorizer against it.
ANSWER_KEY = "answer_key.csv"

_exponents: dict[str, int] = {}


def money(minor: int, currency: str) -> str:
    """Exact decimal text from minor units (integer arithmetic: no float, no Decimal per row)."""
    exponent = _exponents.get(currency)
    if exponent is None:
        exponent = _exponents[currency] = currency_exponent(currency)
    if exponent == 0:
        return str(minor)
    whole, fraction = divmod(abs(minor), 10**exponent)
    return f"{'-' if minor < 0 else ''}{whole}.{fraction:0{exponent}d}"


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _open(path: Path) -> IO[str]:
    return path.open("w", encoding="utf-8", newline="")


def write_table(folder: Path, name: str, rows: Iterable[Sequence[str]]) -> int:
    with _open(folder / name) as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS[name])
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_policy(folder: Path, document: dict[str, Any]) -> None:
    with _open(folder / POLICY_FILE) as handle:
        handle.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def company_rows(slug: str, name: str, country: str) -> list[list[str]]:
    # The demo states its auto-apply threshold, so its answers do not move with each training.
    thresholds = [DEFAULT_REVIEW_THRESHOLD, DEFAULT_AUTO_APPLY_THRESHOLD, DEFAULT_TARGET_PRECISION]
    return [[slug, name, COMPANY_CURRENCY, *map(str, thresholds), country]]


def rule_rows(plans: Iterable[Plan]) -> list[list[str]]:
    """Finance's rules for the merchants the company holds a contract with, one per merchant
    (WeWork Paris and WeWork London are one merchant: WeWork)."""
    rules: dict[str, list[str]] = {}
    for plan in sorted(plans, key=lambda p: p.merchant.name):
        rules.setdefault(merchant_key(plan.merchant.name), [plan.merchant.name, plan.merchant.category])
    return list(rules.values())


def team_rows(org: Org) -> Iterable[list[str]]:
    for team in org.teams:
        yield [team.name, team.parent or "", team.manager_email or "", team.cost_center]


def employee_rows(org: Org) -> Iterable[list[str]]:
    for p in org.people:
        limit = "" if p.approval_limit_minor is None else money(p.approval_limit_minor, COMPANY_CURRENCY)
        yield [
            p.email,
            p.name,
            p.team,
            p.manager_email or "",
            p.role,
            limit,
            _flag(p.active),
            _date(p.ooo_from),
            _date(p.ooo_until),
            p.delegate_email or "",
        ]


def category_rows(categories: Iterable[Category]) -> Iterable[list[str]]:
    for c in categories:
        yield [c.code, c.name, c.parent or "", c.gl_account, c.vat_rate, c.description, " ".join(c.mcc_codes)]


def fx_rows(valid_from: dt.date) -> list[list[str]]:
    """The fixed table every foreign amount was converted with, from the first day of the data."""
    return [
        [code, str(rate), valid_from.isoformat()]
        for code, rate in sorted(FX_TO_EUR.items())
        if code != COMPANY_CURRENCY
    ]


def budget_rows(budgets: Iterable[Budget]) -> Iterable[list[str]]:
    for b in budgets:
        yield [b.team, b.category, b.period, money(b.amount_minor, COMPANY_CURRENCY), COMPANY_CURRENCY]


def _company_amount(minor: int, currency: str) -> str:
    # Only required (and only written) when the transaction currency is not the company's.
    return "" if currency == COMPANY_CURRENCY else money(minor, COMPANY_CURRENCY)


def expense_row(s: Spend) -> list[str]:
    return [
        s.ref,
        s.date.isoformat(),
        s.person.email,
        s.person.team,
        s.descriptor,
        s.merchant.name,
        s.merchant.mcc,
        money(s.amount_minor, s.currency),
        s.currency,
        _company_amount(s.amount_company_minor, s.currency),
        s.memo,
        s.status,
        s.payment_type,
        s.category_code,
        s.category_source,
        _flag(s.receipt),
        card_of(s),
        receipt_id(s.ref) if s.receipt else "",
        s.country,
    ]


def card_of(s: Spend) -> str:
    """The masked company card a card payment went on: one per person, its last four digits fixed by
    the e-mail (no random draw, so the rest of the demo does not move); empty for invoices and
    reimbursements."""
    if s.payment_type != "card":
        return ""
    return f"**** {zlib.crc32(s.person.email.encode()) % 9000 + 1000}"


def receipt_id(ref: str) -> str:
    """The receipt's id in the receipt store: one per expense that has one (no natural duplicates)."""
    return f"RCT-{ref.removeprefix('EXP-')}"


def history_rows(r: ApprovalRecord) -> Iterable[list[str]]:
    request = [
        r.ref,
        r.requester.email,
        r.team,
        r.category,
        money(r.amount_minor, r.currency),
        r.currency,
        _company_amount(r.amount_company_minor, r.currency),
        r.payment_type,
        r.description,
        r.submitted_at.isoformat(),
        r.status,
        r.expense_ref,
    ]
    for d in r.decisions:
        behalf = d.on_behalf_of.email if d.on_behalf_of else ""
        yield [*request, str(d.step), d.approver.email, behalf, d.decision, d.decided_at.isoformat()]


class ActivityStream:
    """expenses.csv, approval_history.csv and answer_key.csv, open together and appended to month by
    month."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._handles: list[IO[str]] = []

    def __enter__(self) -> ActivityStream:
        expenses, history = _open(self._folder / "expenses.csv"), _open(self._folder / "approval_history.csv")
        key = _open(self._folder / ANSWER_KEY)
        self._handles = [expenses, history, key]
        self._expenses, self._history, self._key = csv.writer(expenses), csv.writer(history), csv.writer(key)
        self._expenses.writerow(HEADERS["expenses.csv"])
        self._history.writerow(HEADERS["approval_history.csv"])
        self._key.writerow(("id", "category_code"))
        return self

    def write(self, spends: Iterable[Spend], records: Iterable[ApprovalRecord]) -> None:
        spends = list(spends)
        self._expenses.writerows(expense_row(s) for s in spends)
        self._key.writerows((s.ref, s.category) for s in spends)
        for record in records:
            self._history.writerows(history_rows(record))

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for handle in self._handles:
            handle.close()
