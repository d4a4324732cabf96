"""Pure logic of the expenses capability: pagination cursors, row → output models, summaries."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import json
from decimal import Decimal
from typing import TYPE_CHECKING

import iso18245

from server.errors import InvalidArgument
from server.money import format_amount
from tools.expenses.schemas import (
    ApprovalDecisionInfo,
    ApprovalRequestInfo,
    CategoryAssignment,
    ExpenseDetail,
    ExpenseItem,
    MerchantInfo,
    Money,
    Person,
    SearchExpensesOutput,
    TeamInfo,
)

if TYPE_CHECKING:
    from server.db.models import ApprovalDecision, Category, Employee, Expense
    from tools.expenses.queries import ExpenseFilters, ExpenseRow

# ---- cursors -------------------------------------------------------------------------------------
# A cursor is base64url(payload JSON + HMAC-SHA256(payload)). The payload holds the keyset (date and
# id of the last row served), the company and a hash of the resolved filters, so that a cursor cannot
# be forged, replayed against other filters, or carried over to another company.

CURSOR_VERSION = 1
_SIGNATURE_BYTES = 32
DAMAGED_CURSOR = (
    "this cursor is damaged or was not issued by this server; pass next_cursor exactly as it was "
    "returned, or start again without a cursor"
)
FOREIGN_CURSOR = "this cursor is not valid for these filters; start again without a cursor"


def filters_digest(filters: ExpenseFilters) -> str:
    canonical = json.dumps(dataclasses.asdict(filters), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def encode_cursor(secret: bytes, filters: ExpenseFilters, last_date: dt.date, last_id: int) -> str:
    payload = {
        "v": CURSOR_VERSION,
        "c": filters.company_id,
        "f": filters_digest(filters),
        "d": last_date.isoformat(),
        "i": last_id,
    }
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(secret, body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + signature).decode().rstrip("=")


def decode_cursor(secret: bytes, filters: ExpenseFilters, cursor: str) -> tuple[dt.date, int]:
    """The keyset a cursor resumes after; `InvalidArgument` unless this server issued it for these filters."""
    try:
        raw = base64.urlsafe_b64decode(cursor.strip() + "=" * (-len(cursor.strip()) % 4))
    except (binascii.Error, ValueError):
        raise InvalidArgument(DAMAGED_CURSOR) from None
    body, signature = raw[:-_SIGNATURE_BYTES], raw[-_SIGNATURE_BYTES:]
    if not body or not hmac.compare_digest(signature, hmac.new(secret, body, hashlib.sha256).digest()):
        raise InvalidArgument(DAMAGED_CURSOR)
    payload = json.loads(body)
    if payload.get("v") != CURSOR_VERSION:
        raise InvalidArgument(DAMAGED_CURSOR)
    if payload["c"] != filters.company_id or payload["f"] != filters_digest(filters):
        raise InvalidArgument(FOREIGN_CURSOR)
    return dt.date.fromisoformat(payload["d"]), int(payload["i"])


# ---- output models ---------------------------------------------------------------------------------


def money(minor: int, currency: str) -> Money:
    return Money(amount=format_amount(minor, currency), currency=currency)


def person(employee: Employee) -> Person:
    return Person(email=employee.email, name=employee.name)


def category_assignment(expense: Expense, category: Category | None) -> CategoryAssignment | None:
    if category is None:
        return None
    return CategoryAssignment(
        code=category.code,
        name=category.name,
        source=expense.category_source,
        confidence=expense.category_confidence,
    )


def expense_item(row: ExpenseRow, company_currency: str) -> ExpenseItem:
    expense = row.expense
    return ExpenseItem(
        id=expense.ref,
        date=expense.spent_on,
        employee=person(row.employee),
        team=row.team.name,
        merchant=row.merchant.name,
        descriptor=expense.descriptor,
        amount=money(expense.amount_minor, expense.currency),
        amount_company=money(expense.amount_company_minor, company_currency),
        category=category_assignment(expense, row.category),
        status=expense.status,
        receipt_attached=expense.receipt_present,
    )


@functools.lru_cache(maxsize=1024)
def mcc_description(mcc: str | None) -> str | None:
    """The ISO 18245 description; remembered, since the library scans its CSV table on every lookup."""
    if not mcc:
        return None
    try:
        found = iso18245.get_mcc(mcc)
    except (iso18245.MCCNotFound, iso18245.InvalidMCC, ValueError):
        return None
    return found.iso_description or found.visa_description or found.mastercard_description or None


def expense_detail(
    row: ExpenseRow, company_currency: str, approvals: list[ApprovalRequestInfo]
) -> ExpenseDetail:
    expense = row.expense
    mcc = expense.mcc or row.merchant.mcc
    return ExpenseDetail(
        id=expense.ref,
        date=expense.spent_on,
        descriptor=expense.descriptor,
        memo=expense.memo,
        amount=money(expense.amount_minor, expense.currency),
        amount_company=money(expense.amount_company_minor, company_currency),
        status=expense.status,
        payment_type=expense.payment_type,
        merchant=MerchantInfo(name=row.merchant.name, mcc=mcc, mcc_description=mcc_description(mcc)),
        category=category_assignment(expense, row.category),
        employee=person(row.employee),
        team=TeamInfo(name=row.team.name, cost_center=row.team.cost_center),
        receipt_attached=expense.receipt_present,
        approvals=approvals,
    )


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC timestamps, PostgreSQL aware ones: present both the same way."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def decision_info(
    decision: ApprovalDecision, approver: Employee, on_behalf_of: Employee | None
) -> ApprovalDecisionInfo:
    return ApprovalDecisionInfo(
        step=decision.step,
        approver=person(approver),
        on_behalf_of=None if on_behalf_of is None else person(on_behalf_of),
        decision=decision.decision,
        decided_at=utc(decision.decided_at),
    )


# ---- summaries (the short text beside the structured content) ------------------------------------


def grouped(amount: str) -> str:
    """1234567.5 → 1,234,567.50 (for text only; structured amounts have no separators)."""
    return f"{Decimal(amount):,}"


def search_summary(output: SearchExpensesOutput) -> str:
    if not output.items:
        return "No expenses match these filters." if output.total_matched == 0 else "No more expenses."
    count = len(output.items)
    noun = "expense" if count == 1 else "expenses"
    total = f"{grouped(output.page_total.amount)} {output.page_total.currency}"
    more = "more available (pass next_cursor)" if output.next_cursor else "no more pages"
    matching = f"{'more than ' if output.total_matched_capped else ''}{output.total_matched}"
    return f"{count} {noun} of {matching} matching, {total} in this page; {more}"


def detail_summary(detail: ExpenseDetail) -> str:
    amount = f"{grouped(detail.amount.amount)} {detail.amount.currency}"
    category = f"category {detail.category.code}" if detail.category else "uncategorized"
    receipt = "receipt attached" if detail.receipt_attached else "no receipt"
    approvals = f"{len(detail.approvals)} approval request(s)"
    return (
        f"{detail.id} on {detail.date.isoformat()}: {amount} at {detail.merchant.name} by "
        f"{detail.employee.name} ({detail.team.name}); {category}; {detail.status}; {receipt}; {approvals}."
    )
