"""SQL for the categorize capability. Every query is filtered by the caller's company."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, func, select, update

from server.audit import changes
from server.db.models import (
    Base,
    Category,
    CategoryRule,
    Company,
    Employee,
    Expense,
    ModelVersion,
)
from server.db.rollups import recount_spend_monthly

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

KIND = "categorizer"


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
    auto_apply_given: bool  # company.csv set it: it stays; else the serving model's choice applies
    target_precision: float


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
    """Categories, rules, thresholds and the serving model version, in one round trip."""
    serving = and_(
        ModelVersion.company_id == Company.id, ModelVersion.kind == KIND, ModelVersion.serving.is_(True)
    )
    query = (
        select(
            Company.categorize_review_threshold,
            Company.categorize_auto_apply_threshold,
            Company.categorize_auto_apply_given,
            Company.categorize_target_precision,
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
    review, auto_apply, given, target, version_id, version = rows[0][:6]
    categories: dict[str, CategoryRow] = {}
    rules: dict[str, str] = {}
    for *_, category_id, code, name, description, mccs, key in rows:
        if category_id is None:
            continue
        categories.setdefault(code, CategoryRow(category_id, code, name, description, mccs))
        if key is not None:
            rules[key] = code
    found = None if version_id is None else ServingVersion(version_id, version)
    return Setup(list(categories.values()), rules, Settings(review, auto_apply, given, target), found)


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
