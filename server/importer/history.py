"""approval_history.csv: one row per decision, the request's columns repeated on each of its rows; an
open request that nobody has decided yet is one row without a decision (its decision columns empty)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from server.db.models import PaymentType
from server.importer import fields
from server.importer.checks import Known, check_reference, first_use
from server.importer.problems import Problems
from server.importer.rows import Columns, Row, read_csv
from server.importer.spend import ID, NAME, NOTE, PAYMENT_TYPE, read_money
from server.importer.store import Money

# The columns of the request, repeated on each of its decisions' rows.
REQUEST_COLUMNS = (
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
)
# A row with all of these empty is a request without a decision yet (it must be pending, and alone).
DECISION_COLUMNS = ("step", "approver_email", "on_behalf_of_email", "decision", "decided_at")
HISTORY = Columns.of(
    "request_id requester_email amount currency submitted_at status step approver_email decision decided_at",
    "team category_code amount_company payment_type description expense_id on_behalf_of_email",
)


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Decision(enum.StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RequestRow:
    ref: str
    requester: str
    team: str | None  # None: the requester's team
    category: str | None
    money: Money
    payment_type: PaymentType
    description: str | None
    submitted_at: dt.datetime
    status: RequestStatus
    expense: str | None


@dataclass(frozen=True)
class DecisionRow:
    request: str
    step: int
    approver: str
    on_behalf_of: str | None
    decision: Decision
    decided_at: dt.datetime


@dataclass
class History:
    requests: dict[str, RequestRow] = field(default_factory=dict)
    decisions: list[DecisionRow] = field(default_factory=list)
    # The first line of each request and the request cells written there, to compare repeats with.
    first: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    steps: dict[tuple[str, int], int] = field(default_factory=dict)
    # The line of each request's row without a decision, and of each request's first decision.
    undecided: dict[str, int] = field(default_factory=dict)
    decided: dict[str, int] = field(default_factory=dict)


def read_history(
    folder: Path, known: Known, expense_refs: Collection[str] | None, problems: Problems
) -> History:
    """An absent file is an empty history."""
    history = History()
    rows = read_csv(folder, "approval_history.csv", HISTORY, problems, required=False)
    for row in rows or ():
        request = _request(row, known, expense_refs)
        ref = row.raw("request_id")
        if ref and _consistent(row, ref, history) and request is not None:
            history.requests.setdefault(ref, request)
        if not any(row.raw(column) for column in DECISION_COLUMNS):
            _undecided(row, ref, history)
            continue
        if ref and ref in history.undecided:
            row.problem("step", _alone(ref, history.undecided[ref]))
        history.decided.setdefault(ref, row.line)
        decision = _decision(row, known)
        if decision is None:
            continue
        label = f"step {decision.step} of request {ref!r}"
        if first_use(row, "step", (ref, decision.step), history.steps, label) and row.ok:
            history.decisions.append(decision)
    return history


def _undecided(row: Row, ref: str, history: History) -> None:
    """A request nobody has decided yet: pending, and its only row."""
    status = row.raw("status")
    if status in (RequestStatus.APPROVED, RequestStatus.REJECTED):
        row.problem(
            "decision",
            f"required: a request that is {status} has decisions; only a pending one may have none",
        )
    if ref and ref in history.decided:
        row.problem("step", _alone(ref, history.decided[ref]))
    elif ref:
        first_use(row, "request_id", ref, history.undecided, f"row without a decision of request {ref!r}")


def _alone(ref: str, line: int) -> str:
    return (
        f"request {ref!r} has both decisions and a row without one (line {line}): a request is either "
        "its decisions' rows, or one row with the decision columns empty"
    )


def _request(row: Row, known: Known, expense_refs: Collection[str] | None) -> RequestRow | None:
    ref = row.value("request_id", ID, required=True)
    requester = row.value("requester_email", fields.email, required=True)
    check_reference(row, "requester_email", requester, "employee", known.employees)
    team = row.value("team", NAME)
    check_reference(row, "team", team, "team", known.teams)
    category = row.value("category_code", ID)
    check_reference(row, "category_code", category, "category", known.categories)
    money = read_money(row, known.currency)
    payment_type = row.value("payment_type", PAYMENT_TYPE) or PaymentType.CARD
    description = row.value("description", NOTE)
    submitted_at = row.value("submitted_at", fields.timestamp, required=True)
    status = row.value("status", fields.choice(RequestStatus), required=True)
    expense = row.value("expense_id", ID)
    check_reference(row, "expense_id", expense, "expense", expense_refs)
    if ref is None or requester is None or money is None or submitted_at is None or status is None:
        return None
    return RequestRow(
        ref, requester, team, category, money, payment_type, description, submitted_at, status, expense
    )


def _consistent(row: Row, ref: str, history: History) -> bool:
    """The request columns must repeat the request's first row (compared as written)."""
    cells = {column: row.raw(column) for column in REQUEST_COLUMNS}
    first_line, first_cells = history.first.setdefault(ref, (row.line, cells))
    consistent = True
    for column in REQUEST_COLUMNS:
        if _normalized(column, cells[column]) != _normalized(column, first_cells[column]):
            there = repr(first_cells[column]) if first_cells[column] else "empty"
            row.problem(column, f"differs from line {first_line} of request {ref!r} ({there} there)")
            consistent = False
    return consistent


def _normalized(column: str, cell: str) -> str:
    return cell.lower() if column.endswith("_email") or column == "currency" else cell


def _decision(row: Row, known: Known) -> DecisionRow | None:
    step = row.value("step", fields.positive_int, required=True)
    approver = row.value("approver_email", fields.email, required=True)
    check_reference(row, "approver_email", approver, "employee", known.employees)
    on_behalf_of = row.value("on_behalf_of_email", fields.email)
    check_reference(row, "on_behalf_of_email", on_behalf_of, "employee", known.employees)
    decision = row.value("decision", fields.choice(Decision), required=True)
    decided_at = row.value("decided_at", fields.timestamp, required=True)
    if approver is not None and approver == row.raw("requester_email").lower():
        row.problem("approver_email", "the requester cannot approve their own request")
    if approver is not None and approver == on_behalf_of:
        row.problem("on_behalf_of_email", "an approver cannot stand in for themselves")
    submitted_at = fields.quietly(fields.timestamp, row.raw("submitted_at"))
    if submitted_at is not None and decided_at is not None and decided_at < submitted_at:
        row.problem(
            "decided_at", f"{row.raw('decided_at')} is before submitted_at ({row.raw('submitted_at')})"
        )
    if step is None or approver is None or decision is None or decided_at is None:
        return None
    return DecisionRow(row.raw("request_id"), step, approver, on_behalf_of, decision, decided_at)
