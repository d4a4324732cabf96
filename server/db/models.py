"""ORM models for the core tables (DESIGN §2). Every tenant table carries `company_id`, and a reference
from one tenant table to another is (company_id, x_id): a row can name only its own company's rows.

Money is `*_minor` (integer minor units) plus a `currency` column. There are no ORM relationships:
every query states its joins, so nothing is ever loaded behind a query's back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Re-exported: they live where modules that must not load SQLAlchemy (start-up) can import them.
from server.db.values import CategorySource as CategorySource
from server.db.values import ExpenseStatus as ExpenseStatus
from server.db.values import PaymentType as PaymentType
from server.db.values import utc as utc
from server.db.values import utcnow as utcnow

NAMING_CONVENTION: dict[str, Any] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(referencing_column)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    # A reference is named after its last column: x_id of a (company_id, x_id) one (`_same_company`).
    "referencing_column": lambda constraint, _table: constraint.elements[-1].parent.name,
}

DEFAULT_REVIEW_THRESHOLD = 0.8
DEFAULT_AUTO_APPLY_THRESHOLD = 0.95
DEFAULT_TARGET_PRECISION = 0.97

# SQLite only auto-increments INTEGER PRIMARY KEY, so BIGINT ids are INTEGER there.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's declarative hook
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: DateTime(timezone=True),
    }


def _company_fk() -> Mapped[int]:
    return mapped_column(Id, ForeignKey("companies.id", ondelete="CASCADE"), index=True)


def _same_company(column: str, target: str, **options: Any) -> ForeignKeyConstraint:
    """`column` names a row of `target` of the row's own company. The key is (company_id, column), so
    the database itself refuses another company's row: a foreign-key check does not see row security
    (PostgreSQL runs it as the table owner). `target` has the unique key `_referenced()` for it."""
    return ForeignKeyConstraint(["company_id", column], [f"{target}.company_id", f"{target}.id"], **options)


def _referenced() -> UniqueConstraint:
    """(company_id, id): what `_same_company` references (a composite foreign key needs a unique target)."""
    return UniqueConstraint("company_id", "id")


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The categorizer's thresholds: below `review` an answer needs a human; from `auto_apply` it may be
    # written without one.
    categorize_review_threshold: Mapped[float] = mapped_column(
        Float, default=DEFAULT_REVIEW_THRESHOLD, server_default=str(DEFAULT_REVIEW_THRESHOLD)
    )
    categorize_auto_apply_threshold: Mapped[float] = mapped_column(
        Float, default=DEFAULT_AUTO_APPLY_THRESHOLD, server_default=str(DEFAULT_AUTO_APPLY_THRESHOLD)
    )
    # Whether company.csv set the auto-apply threshold; if not, training chooses it from the company's own
    # held-out answers so that auto-applied categories reach `categorize_target_precision`.
    categorize_auto_apply_given: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    categorize_target_precision: Mapped[float] = mapped_column(
        Float, default=DEFAULT_TARGET_PRECISION, server_default=str(DEFAULT_TARGET_PRECISION)
    )
    # The names of the company's free expense dimensions (`dim_<name>` columns of expenses.csv).
    dimensions: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    # ISO 3166-1 alpha-2: whose public holidays the forecasts expect less spend on (none when not given).
    country: Mapped[str | None] = mapped_column(String(2))


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("company_id", "name"),
        _referenced(),
        _same_company("parent_id", "teams"),
        # use_alter: teams and employees reference each other.
        _same_company("manager_id", "employees", use_alter=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(Id)
    manager_id: Mapped[int | None] = mapped_column(Id)
    cost_center: Mapped[str | None] = mapped_column(String(64))


class Employee(Base):
    __tablename__ = "employees"
    __table_args__ = (
        UniqueConstraint("company_id", "email"),
        _referenced(),
        _same_company("team_id", "teams"),
        _same_company("manager_id", "employees"),
        _same_company("delegate_id", "employees"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[int] = mapped_column(Id, index=True)
    manager_id: Mapped[int | None] = mapped_column(Id)
    role: Mapped[str] = mapped_column(String(64))
    # In company currency; None means no authority to approve spend.
    approval_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    out_of_office_from: Mapped[dt.date | None] = mapped_column(Date)
    out_of_office_until: Mapped[dt.date | None] = mapped_column(Date)
    delegate_id: Mapped[int | None] = mapped_column(Id)


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("company_id", "code"),
        _referenced(),
        _same_company("parent_id", "categories"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(Id)
    gl_account: Mapped[str | None] = mapped_column(String(64))
    # Basis points (2000 = 20%): a rate, kept exact like money.
    vat_rate_bp: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    mcc_codes: Mapped[list[Any]] = mapped_column(default=list)


class CategoryRule(Base):
    """The company's own rule: expenses at this merchant go to this category (the categorizer's first
    stage). `merchant_key` is the normalized merchant (`server.kit.merchants.merchant_key`)."""

    __tablename__ = "category_rules"
    __table_args__ = (
        UniqueConstraint("company_id", "merchant_key"),
        _same_company("category_id", "categories"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    merchant_key: Mapped[str] = mapped_column(String(200))
    merchant: Mapped[str] = mapped_column(String(200))  # as the company wrote it
    category_id: Mapped[int] = mapped_column(Id)


class Merchant(Base):
    __tablename__ = "merchants"
    __table_args__ = (UniqueConstraint("company_id", "name"), _referenced())

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    name: Mapped[str] = mapped_column(String(200))
    mcc: Mapped[str | None] = mapped_column(String(4))


class Expense(Base):
    __tablename__ = "expenses"
    __table_args__ = (
        UniqueConstraint("company_id", "ref"),
        Index("ix_expenses_company_spent_on", "company_id", "spent_on"),
        Index("ix_expenses_company_team_spent_on", "company_id", "team_id", "spent_on"),
        Index("ix_expenses_company_employee_spent_on", "company_id", "employee_id", "spent_on"),
        Index("ix_expenses_company_category_spent_on", "company_id", "category_id", "spent_on"),
        Index("ix_expenses_company_merchant_spent_on", "company_id", "merchant_id", "spent_on"),
        # review_expenses: a (merchant, amount as spent) pair's charges within a window, one probe per pair.
        Index(
            "ix_expenses_company_merchant_amount_spent_on",
            "company_id",
            "merchant_id",
            "amount_minor",
            "spent_on",
        ),
        # A category budget's history: one team's rows of one category, without reading the team's others.
        Index(
            "ix_expenses_company_team_category_spent_on", "company_id", "team_id", "category_id", "spent_on"
        ),
        Index("ix_expenses_company_cost_center", "company_id", "cost_center"),
        Index("ix_expenses_company_project", "company_id", "project"),
        # review_expenses: one receipt on several expenses is a duplicate, compared trimmed and without case
        # (a column, not an expression: row-level security keeps lower() out of index lookups).
        Index("ix_expenses_company_receipt_key_column", "company_id", "receipt_key"),
        _referenced(),
        _same_company("merchant_id", "merchants"),
        _same_company("employee_id", "employees"),
        _same_company("team_id", "teams"),
        _same_company("category_id", "categories"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = mapped_column(Id, ForeignKey("companies.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(64))
    descriptor: Mapped[str] = mapped_column(String(200))
    merchant_id: Mapped[int] = mapped_column(Id)
    mcc: Mapped[str | None] = mapped_column(String(4))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    amount_company_minor: Mapped[int] = mapped_column(BigInteger)
    spent_on: Mapped[dt.date] = mapped_column(Date)
    # None: the export names no one (a card statement without card holders); the team is then given.
    employee_id: Mapped[int | None] = mapped_column(Id)
    team_id: Mapped[int] = mapped_column(Id)
    memo: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ExpenseStatus.PENDING)
    payment_type: Mapped[str] = mapped_column(String(16), default=PaymentType.CARD)
    category_id: Mapped[int | None] = mapped_column(Id)
    category_source: Mapped[str | None] = mapped_column(String(16))
    category_confidence: Mapped[float | None] = mapped_column(Float)
    receipt_present: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Dimensions of real card and expense exports; free ones (dim_<name>) are in expense_dimensions.
    cost_center: Mapped[str | None] = mapped_column(String(64))
    project: Mapped[str | None] = mapped_column(String(64))
    # What review_expenses reads: a masked card reference, the expense tool's receipt id, and the ISO
    # 3166-1 alpha-2 country where it was spent.
    card: Mapped[str | None] = mapped_column(String(32))
    receipt_id: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    # receipt_id trimmed and in lower case, computed by the database (migration 0019: stored on PostgreSQL,
    # virtual on SQLite), never written.
    receipt_key: Mapped[str | None] = mapped_column(String(64), Computed("lower(trim(receipt_id))"))


class ExpenseDimension(Base):
    """A free analytical field of one expense (`dim_<name>` in expenses.csv): fund, location, grant, ..."""

    __tablename__ = "expense_dimensions"
    __table_args__ = (
        Index("ix_expense_dimensions_company_name_value", "company_id", "name", "value"),
        _same_company("expense_id", "expenses", ondelete="CASCADE"),
    )

    expense_id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[int] = mapped_column(Id, ForeignKey("companies.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(200))


class CategoryCorrection(Base):
    """A person's correction of an expense's category (recategorize_expense): what the categorizer reads
    at once (the expenses corrected since its training, caught up by id) and weighs up in its next
    training."""

    __tablename__ = "category_corrections"
    __table_args__ = (
        Index("ix_category_corrections_company_id", "company_id", "id"),
        Index("ix_category_corrections_expense_id", "expense_id"),
        _same_company("expense_id", "expenses", ondelete="CASCADE"),
        _same_company("category_id", "categories"),
        _same_company("previous_category_id", "categories"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = mapped_column(Id, ForeignKey("companies.id", ondelete="CASCADE"))
    expense_id: Mapped[int] = mapped_column(Id)
    merchant_key: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(Id)
    previous_category_id: Mapped[int | None] = mapped_column(Id)
    subject: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TeamDailySpend(Base):
    """Derived, rebuilt by every import (server/db/rollups.py): each team's spend per day, refunds netted.
    Forecasts read years of daily history for every team; a large company has millions of expenses."""

    __tablename__ = "team_daily_spend"
    __table_args__ = (_same_company("team_id", "teams"),)

    company_id: Mapped[int] = mapped_column(
        Id, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(Id, primary_key=True)
    spent_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    expenses: Mapped[int] = mapped_column(Integer)


class RepeatCharge(Base):
    """Derived, rebuilt by every import: the expenses at (team, merchant) pairs billed more than once for
    similar amounts, the only ones that can be a subscription (tools/forecast/recurring.py), and those of
    pairs billed once, whose anniversary may bring a renewal (tools/forecast/renewal.py)."""

    __tablename__ = "repeat_charges"
    __table_args__ = (
        Index("ix_repeat_charges_company_team", "company_id", "team_id"),
        _same_company("expense_id", "expenses", ondelete="CASCADE"),
        _same_company("team_id", "teams"),
        _same_company("merchant_id", "merchants"),
    )

    expense_id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = mapped_column(Id, ForeignKey("companies.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(Id)
    merchant_id: Mapped[int] = mapped_column(Id)
    spent_on: Mapped[dt.date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)


class SpendMonthly(Base):
    """Derived: each team's spend per month and category (None: uncategorized), refunds netted. Rebuilt by
    every import; categorize_expenses recounts the (team, month) slices it touched. summarize_spend reads
    the whole months of a period here instead of grouping millions of expenses.

    A surrogate key, as a NULL category cannot be part of a primary key; the unique index holds for the
    categorized rows on both backends (NULLs are distinct in it), and the writers replace a (team, month)
    slice as a whole, so no slice ever has two uncategorized rows."""

    __tablename__ = "spend_monthly"
    __table_args__ = (
        Index("ix_spend_monthly_company_month", "company_id", "month"),
        Index("uq_spend_monthly_slice", "company_id", "team_id", "month", "category_id", unique=True),
        _same_company("team_id", "teams"),
        _same_company("category_id", "categories"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = mapped_column(Id, ForeignKey("companies.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of the month
    team_id: Mapped[int] = mapped_column(Id)
    category_id: Mapped[int | None] = mapped_column(Id)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    expenses: Mapped[int] = mapped_column(Integer)


class _MonthlyTotals:
    """A company's spend per month and one more key, refunds netted: a derived table every import
    rebuilds (categorization changes none of what these split by)."""

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = mapped_column(Id, ForeignKey("companies.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of the month
    total_minor: Mapped[int] = mapped_column(BigInteger)
    expenses: Mapped[int] = mapped_column(Integer)


class MerchantMonthly(_MonthlyTotals, Base):
    """summarize_spend reads the whole months of a company-wide merchant grouping here (issue 23)."""

    __tablename__ = "merchant_monthly"
    __table_args__ = (
        Index("ix_merchant_monthly_company_month", "company_id", "month"),
        _same_company("merchant_id", "merchants"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)


class EmployeeMonthly(_MonthlyTotals, Base):
    """The same per employee (None: the expenses that name no one); a surrogate key, as a NULL employee
    cannot be part of a primary key."""

    __tablename__ = "employee_monthly"
    __table_args__ = (
        Index("ix_employee_monthly_company_month", "company_id", "month"),
        _same_company("employee_id", "employees"),
    )

    employee_id: Mapped[int | None] = mapped_column(Id)


class Budget(Base):
    __tablename__ = "budgets"
    __table_args__ = (
        UniqueConstraint("company_id", "team_id", "category_id", "period_start"),
        _same_company("team_id", "teams"),
        _same_company("category_id", "categories"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    team_id: Mapped[int] = mapped_column(Id)
    category_id: Mapped[int | None] = mapped_column(Id)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class FxRate(Base):
    """One exchange rate into the company currency: 1 unit of `currency` = `rate` units of company
    currency, from `valid_from` (None: since always) until the next rate of that currency."""

    __tablename__ = "fx_rates"
    __table_args__ = (UniqueConstraint("company_id", "currency", "valid_from"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    currency: Mapped[str] = mapped_column(String(3))
    # Decimal text ("1.1650"): exact on both backends, where a float or SQLite's NUMERIC would not be.
    rate: Mapped[str] = mapped_column(String(40))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)


class ApprovalPolicy(Base):
    """One version of a company's approval policy; the highest version is in force."""

    __tablename__ = "approval_policies"
    __table_args__ = (UniqueConstraint("company_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ExpensePolicy(Base):
    """One version of a company's expense policy (server/kit/expense_policy.py); the highest is in force."""

    __tablename__ = "expense_policies"
    __table_args__ = (UniqueConstraint("company_id", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"
    __table_args__ = (
        UniqueConstraint("company_id", "ref"),
        # get_expense lists an expense's requests: without it, a scan of the company's requests a lookup.
        Index("ix_approval_requests_company_expense", "company_id", "expense_id"),
        # submit_spend_request files once per key: a retry with the same key finds the request it filed.
        Index("uq_approval_requests_company_idempotency_key", "company_id", "idempotency_key", unique=True),
        _referenced(),
        _same_company("requester_id", "employees"),
        _same_company("team_id", "teams"),
        _same_company("category_id", "categories"),
        _same_company("expense_id", "expenses"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    ref: Mapped[str] = mapped_column(String(64))
    requester_id: Mapped[int] = mapped_column(Id)
    team_id: Mapped[int] = mapped_column(Id)
    category_id: Mapped[int | None] = mapped_column(Id)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    amount_company_minor: Mapped[int] = mapped_column(BigInteger)
    payment_type: Mapped[str] = mapped_column(String(16), default=PaymentType.CARD)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[dt.datetime] = mapped_column()
    expense_id: Mapped[int | None] = mapped_column(Id)
    # Who filed it with submit_spend_request: the person's e-mail, or the token's subject when a service
    # (a token without a user) filed it on the requester's behalf (`filed_on_behalf`). Null: imported.
    filed_by: Mapped[str | None] = mapped_column(String(200))
    filed_on_behalf: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    idempotency_key: Mapped[str | None] = mapped_column(String(200))


class ApprovalDecision(Base):
    __tablename__ = "approval_decisions"
    __table_args__ = (
        _same_company("request_id", "approval_requests"),
        _same_company("approver_id", "employees"),
        _same_company("on_behalf_of_id", "employees"),
        # One decision per step: of two people deciding the same step at once, one is refused.
        Index("uq_approval_decisions_request_step", "request_id", "step", unique=True),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    request_id: Mapped[int] = mapped_column(Id, index=True)
    step: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[int] = mapped_column(Id, index=True)
    # The person the approver stood in for (out-of-office delegation), if any.
    on_behalf_of_id: Mapped[int | None] = mapped_column(Id)
    decision: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[dt.datetime] = mapped_column()
    # The decider's words (decide_approval: required to reject); null for imported decisions.
    comment: Mapped[str | None] = mapped_column(Text)


class DataChange(Base):
    """The record of data changes, imports and training: one row per change, written in the transaction
    that makes it. A change made by a tool call carries the call's `call_id` (its row in the trail of
    calls, `audit_events`) and, in `details`, the changed row's table, key, before and after."""

    __tablename__ = "data_changes"
    __table_args__ = (Index("ix_data_changes_company_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int | None] = mapped_column(Id, ForeignKey("companies.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    call_id: Mapped[str | None] = mapped_column(String(32), index=True)


class CallEvent(Base):
    """The trail of calls: one MCP call (tool, resource or prompt) — who, which company, what, how it
    ended — or the refusals of one caller by one abuse limit in a minute (kind `limit`, with their
    count). Append-only (a trigger refuses UPDATE and DELETE); written by server/audit/trail.py. Argument
    values are never stored, only a digest of them; what a call changed is in `data_changes` (by
    `call_id`)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_company_at", "company", "at"), Index("ix_audit_events_at", "at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    subject: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    arguments_sha256: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    latency_ms: Mapped[float] = mapped_column(Float)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(32))
    # How many events the row stands for: 1 for a call; the refusals of one caller by one abuse limit
    # within a minute for a `limit` row (server/audit/refusals.py), which are never written one by one.
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("company_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    kind: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    serving: Mapped[bool] = mapped_column(Boolean, default=False)
    trained_from: Mapped[dt.date | None] = mapped_column(Date)
    trained_until: Mapped[dt.date | None] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """Long work of one company (docs/jobs.md): what to do, how far it got, and how it ended. The queue
    (procrastinate, on PostgreSQL) only says when to run it; this row is what callers see."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("company_id", "kind", "idempotency_key"), _referenced())

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    kind: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued running succeeded failed dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_message: Mapped[str | None] = mapped_column(String(200))
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column()  # where a retry resumes (a backlog's cursor)
    result: Mapped[dict[str, Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()


class JobFile(Base):
    """A file a queued import brings (docs/jobs.md): the bytes the command read and checked, compressed
    (zlib), for a worker that cannot read the command's disk. Deleted when the import commits."""

    __tablename__ = "job_files"
    __table_args__ = (UniqueConstraint("job_id", "name"), _same_company("job_id", "jobs", ondelete="CASCADE"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    job_id: Mapped[int] = mapped_column(Id)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)  # bytes before compression
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ForecastSnapshot(Base):
    """Every running budget of a company ranked by risk (forecast_budgets), as the nightly job saw it."""

    __tablename__ = "forecast_snapshots"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    company_id: Mapped[int] = _company_fk()
    as_of: Mapped[dt.date] = mapped_column(Date)
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
