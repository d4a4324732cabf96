"""SQL for the categorize capability. Every query is filtered by the caller's company."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, func, select, update

from server.audit import changes
from server.db.models import (
    Base,
    Category,
    CategoryRule,
    CategorySource,
    Company,
    Employee,
    Expense,
    Merchant,
    ModelVersion,
    Team,
)
from server.db.rollups import recount_spend_monthly

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.kit.selection import ExpenseRow

KIND = "categorizer"
# What the books' humans decided (and the company's imported rules): the model learns from these only,
# never from its own or the LLM's earlier answers.
TRUSTED_SOURCES = (CategorySource.HUMAN, CategorySource.RULE)


@dataclass(frozen=True)
class CategoryRow:
    id: int
    code: str
    name: str
    description: str | None
    mcc_codes: list[str]


@dataclass(frozen=True)
class Settings:
    review_threshold: float
    auto_apply_threshold: float


@dataclass(frozen=True)
class ExpenseFactsRow:
    id: int
    ref: str
    spent_on: dt.date
    descriptor: str
    merchant: str
    mcc: str | None
    memo: str | None
    amount_minor: int
    currency: str
    amount_company_minor: int
    team: str
    category_code: str | None
    category_name: str | None
    category_source: str | None


@dataclass(frozen=True)
class ServingVersion:
    id: int
    version: int


@dataclass(frozen=True)
class Setup:
    """What a categorize call needs to know about the company before looking at any expense."""

    categories: list[CategoryRow]
    rules: dict[str, str]  # merchant key -> category code
    settings: Settings
    serving: ServingVersion | None


async def setup(session: AsyncSession, company_id: int) -> Setup:
    """Categories, rules, thresholds and the serving model version, in one round trip (a call that
    categorizes one expense makes three: caller, this, the expense)."""
    serving = and_(
        ModelVersion.company_id == Company.id, ModelVersion.kind == KIND, ModelVersion.serving.is_(True)
    )
    query = (
        select(
            Company.categorize_review_threshold,
            Company.categorize_auto_apply_threshold,
            ModelVersion.id,
            ModelVersion.version,
            Category.id,
            Category.code,
            Category.name,
            Category.description,
            Category.mcc_codes,
            CategoryRule.merchant_key,
        )
        .outerjoin(ModelVersion, serving)
        .outerjoin(Category, Category.company_id == Company.id)
        .outerjoin(CategoryRule, CategoryRule.category_id == Category.id)
        .where(Company.id == company_id)
        .order_by(Category.code)
    )
    rows = (await session.execute(query)).all()
    review, auto_apply, version_id, version = rows[0][:4]
    categories: dict[str, CategoryRow] = {}
    rules: dict[str, str] = {}
    for *_, category_id, code, name, description, mccs, key in rows:
        if category_id is None:
            continue
        categories.setdefault(code, CategoryRow(category_id, code, name, description, mccs))
        if key is not None:
            rules[key] = code
    found = None if version_id is None else ServingVersion(version_id, version)
    return Setup(list(categories.values()), rules, Settings(review, auto_apply), found)


def _facts_query() -> Any:
    return (
        select(
            Expense.id,
            Expense.ref,
            Expense.spent_on,
            Expense.descriptor,
            Merchant.name,
            func.coalesce(Expense.mcc, Merchant.mcc),
            Expense.memo,
            Expense.amount_minor,
            Expense.currency,
            Expense.amount_company_minor,
            Team.name,
            Category.code,
            Category.name,
            Expense.category_source,
        )
        .join(Merchant, Merchant.id == Expense.merchant_id)
        .join(Team, Team.id == Expense.team_id)
        .outerjoin(Category, Category.id == Expense.category_id)
    )


def facts_of_row(row: ExpenseRow) -> ExpenseFactsRow:
    """The facts of a row the expenses capability's search already loaded."""
    expense, category = row.expense, row.category
    return ExpenseFactsRow(
        expense.id,
        expense.ref,
        expense.spent_on,
        expense.descriptor,
        row.merchant.name,
        expense.mcc or row.merchant.mcc,
        expense.memo,
        expense.amount_minor,
        expense.currency,
        expense.amount_company_minor,
        row.team.name,
        category.code if category else None,
        category.name if category else None,
        expense.category_source,
    )


async def facts_by_refs(session: AsyncSession, company_id: int, refs: Sequence[str]) -> list[ExpenseFactsRow]:
    query = _facts_query().where(Expense.company_id == company_id, Expense.ref.in_(list(refs)))
    return [ExpenseFactsRow(*row) for row in (await session.execute(query)).all()]


async def facts_by_ids(session: AsyncSession, company_id: int, ids: Sequence[int]) -> list[ExpenseFactsRow]:
    query = _facts_query().where(Expense.company_id == company_id, Expense.id.in_(list(ids)))
    return [ExpenseFactsRow(*row) for row in (await session.execute(query)).all()]


async def training_history(session: AsyncSession, company_id: int) -> list[ExpenseFactsRow]:
    """Every expense a human (or an imported rule) categorized: what the model learns from."""
    query = _facts_query().where(
        Expense.company_id == company_id,
        Expense.category_id.is_not(None),
        Expense.category_source.in_([s.value for s in TRUSTED_SOURCES]),
    )
    return [ExpenseFactsRow(*row) for row in (await session.execute(query)).all()]


async def artifact(session: AsyncSession, version_id: int) -> bytes | None:
    return await session.scalar(select(ModelVersion.artifact).where(ModelVersion.id == version_id))


async def versions(session: AsyncSession, company_id: int) -> list[ModelVersion]:
    query = (
        select(ModelVersion)
        .where(ModelVersion.company_id == company_id, ModelVersion.kind == KIND)
        .order_by(ModelVersion.version)
    )
    return list((await session.scalars(query)).all())


async def add_version(session: AsyncSession, row: ModelVersion, *, serve: bool) -> ModelVersion:
    """Store a new version (numbered after the last one); with `serve`, it becomes the serving one."""
    last = await session.scalar(
        select(func.max(ModelVersion.version)).where(
            ModelVersion.company_id == row.company_id, ModelVersion.kind == KIND
        )
    )
    row.kind, row.version, row.serving = KIND, (last or 0) + 1, False
    session.add(row)
    await session.flush()
    if serve:
        await set_serving(session, row.company_id, row.version)
    return row


async def set_serving(session: AsyncSession, company_id: int, version: int) -> bool:
    """Make `version` the serving one (and no other); False when there is no such version."""
    scope = (ModelVersion.company_id == company_id, ModelVersion.kind == KIND)
    exists = await session.scalar(select(ModelVersion.id).where(*scope, ModelVersion.version == version))
    if exists is None:
        return False
    await session.execute(update(ModelVersion).where(*scope).values(serving=ModelVersion.version == version))
    return True


@dataclass(frozen=True)
class Assignment:
    expense_id: int
    ref: str
    category_id: int
    code: str
    source: str  # how Expense.category_source records it: rule or model
    confidence: float
    stage: str  # the categorizer stage that decided


async def still_uncategorized(session: AsyncSession, company_id: int, ids: Sequence[int]) -> set[int]:
    """Of `ids`, those without a category now, locked until the transaction ends (PostgreSQL)."""
    query = (
        select(Expense.id)
        .where(Expense.company_id == company_id, Expense.id.in_(list(ids)), Expense.category_id.is_(None))
        .with_for_update()
    )
    return set((await session.scalars(query)).all())


async def apply(
    session: AsyncSession,
    company_id: int,
    assignments: Sequence[Assignment],
    *,
    actor: str,
    model_version: int | None,
) -> None:
    """Write the categories (only onto expenses still without one), recount the monthly rollup of the
    months they are in, and record each change (`data_changes`)."""
    if not assignments:
        return
    table = Base.metadata.tables["expenses"]  # Core: an executemany, one statement for the whole batch
    statement = (
        update(table)
        .where(
            table.c.company_id == company_id,
            table.c.id == bindparam("b_expense"),
            table.c.category_id.is_(None),
        )
        .values(
            category_id=bindparam("b_category"),
            category_source=bindparam("b_source"),
            category_confidence=bindparam("b_confidence"),
        )
    )
    await session.execute(
        statement,
        [
            {
                "b_expense": a.expense_id,
                "b_category": a.category_id,
                "b_source": a.source,
                "b_confidence": a.confidence,
            }
            for a in assignments
        ],
    )
    # Whatever the update changed (it skips expenses categorized meanwhile), the monthly rollup follows.
    await recount_spend_monthly(session, company_id, [a.expense_id for a in assignments])
    # Before: nothing, as the update above only touches expenses without a category.
    await changes.record(
        session,
        company_id,
        actor=actor,
        action="categorize",
        details=(
            {
                "table": "expenses",
                "key": a.ref,
                "before": {"category": None, "category_source": None, "category_confidence": None},
                "after": {
                    "category": a.code,
                    "category_source": a.source,
                    "category_confidence": a.confidence,
                },
                "stage": a.stage,
                "model_version": model_version,
            }
            for a in assignments
        ),
    )


async def employee_names(session: AsyncSession, company_id: int) -> list[str]:
    """For redaction before anything leaves for an LLM."""
    return list((await session.scalars(select(Employee.name).where(Employee.company_id == company_id))).all())
