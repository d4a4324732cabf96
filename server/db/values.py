"""The plain values the ORM models store (enums) and the UTC helpers, without SQLAlchemy: modules that
load before the first call (tool schemas, policies) import them from here, and SQLAlchemy and the
models load with the first call (`server.db.models` re-exports them)."""

from __future__ import annotations

import datetime as dt
import enum


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC timestamps, PostgreSQL aware ones: present both the same way."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class CategorySource(enum.StrEnum):
    """Who set an expense's category."""

    HUMAN = "human"
    RULE = "rule"
    MODEL = "model"
    LLM = "llm"


class ExpenseStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REIMBURSED = "reimbursed"


class PaymentType(enum.StrEnum):
    CARD = "card"
    REIMBURSEMENT = "reimbursement"
    INVOICE = "invoice"


# How a free dimension (a dim_<name> column of the import, an expense_dimensions row) is named when
# grouping by it: "dim:fund".
FREE = "dim:"


def free_name(group_by: str) -> str | None:
    """The free dimension's name in "dim:<name>"; None for the other dimensions."""
    return group_by.removeprefix(FREE) if group_by.startswith(FREE) else None
