"""A row may name only its own company's rows, and the database itself holds that (migration 0013): every
reference between two tenant tables is (company_id, x_id) -> (company_id, id). A foreign key on the id
alone let an expense name another company's category, and on PostgreSQL even a tool call, which row
security stops from seeing that category, could write it: foreign-key checks do not see row security.

Every write here is refused or rolled back: the shared two-company world stays as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import Column, ColumnElement, Table, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import create_engine, create_session_factory
from server.db.models import (
    Base,
    Category,
    CategoryCorrection,
    CategoryRule,
    Company,
    Expense,
    ExpenseDimension,
    Job,
    JobFile,
)
from server.db.tenancy import enter_tenant
from server.settings import Settings

pytestmark = pytest.mark.anyio

# (table, column, table referenced): every reference between two tenant tables.
REFERENCES = [
    ("teams", "parent_id", "teams"),
    ("teams", "manager_id", "employees"),
    ("employees", "team_id", "teams"),
    ("employees", "manager_id", "employees"),
    ("employees", "delegate_id", "employees"),
    ("categories", "parent_id", "categories"),
    ("category_rules", "category_id", "categories"),
    ("expenses", "merchant_id", "merchants"),
    ("expenses", "employee_id", "employees"),
    ("expenses", "team_id", "teams"),
    ("expenses", "category_id", "categories"),
    ("expense_dimensions", "expense_id", "expenses"),
    ("category_corrections", "expense_id", "expenses"),
    ("category_corrections", "category_id", "categories"),
    ("category_corrections", "previous_category_id", "categories"),
    ("team_daily_spend", "team_id", "teams"),
    ("repeat_charges", "expense_id", "expenses"),
    ("repeat_charges", "team_id", "teams"),
    ("repeat_charges", "merchant_id", "merchants"),
    ("spend_monthly", "team_id", "teams"),
    ("spend_monthly", "category_id", "categories"),
    ("merchant_monthly", "merchant_id", "merchants"),
    ("employee_monthly", "employee_id", "employees"),
    ("budgets", "team_id", "teams"),
    ("budgets", "category_id", "categories"),
    ("approval_requests", "requester_id", "employees"),
    ("approval_requests", "team_id", "teams"),
    ("approval_requests", "category_id", "categories"),
    ("approval_requests", "expense_id", "expenses"),
    ("approval_decisions", "request_id", "approval_requests"),
    ("approval_decisions", "approver_id", "employees"),
    ("approval_decisions", "on_behalf_of_id", "employees"),
    ("job_files", "job_id", "jobs"),
]


# What a foreign key violation says on SQLite ("FOREIGN KEY constraint failed") and on PostgreSQL ("violates
# foreign key constraint"): not any integrity error, such as a unique key the change collided with.
FOREIGN_KEY = "(?i)foreign key"
EXPENSE_REFERENCES = {column: target for table, column, target in REFERENCES if table == "expenses"}


@asynccontextmanager
async def rolled_back(url: str) -> AsyncIterator[AsyncSession]:
    """A session whose writes never last."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            try:
                yield session
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


async def company_ids(session: AsyncSession) -> tuple[int, int]:
    ids = {slug: id_ for slug, id_ in await session.execute(select(Company.slug, Company.id))}
    return ids["acme"], ids["globex"]


async def first_id(session: AsyncSession, table: str, company_id: int) -> int:
    found = Base.metadata.tables[table]
    return int(await session.scalar(select(func.min(found.c.id)).where(found.c.company_id == company_id)))


def test_every_reference_between_tenant_tables_includes_the_company() -> None:
    tenant = {name for name, table in Base.metadata.tables.items() if "company_id" in table.c}
    found = [
        (
            fk.table.name,
            [c.name for c in fk.columns],
            fk.referred_table.name,
            [e.column.name for e in fk.elements],
            fk.name,
        )
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_key_constraints
        if table.name in tenant and fk.referred_table.name in tenant
    ]
    expected = [
        # Named as the single-column key was, which migration 0013 (and its downgrade) drops by name.
        (table, ["company_id", column], target, ["company_id", "id"], f"fk_{table}_{column}_{target}")
        for table, column, target in REFERENCES
    ]
    assert sorted(found) == sorted(expected)


@pytest.mark.parametrize("column", sorted(EXPENSE_REFERENCES))
async def test_a_new_expense_cannot_name_another_companys_row(seeded_url: str, column: str) -> None:
    target = EXPENSE_REFERENCES[column]
    async with rolled_back(seeded_url) as session:
        acme, globex = await company_ids(session)
        template = await session.scalar(
            select(Expense).where(Expense.company_id == acme, Expense.category_id.is_not(None)).limit(1)
        )
        assert template is not None
        session.expunge(template)
        fields = {c.key: getattr(template, c.key) for c in Expense.__table__.columns if c.key != "id"}

        session.add(Expense(**fields | {"ref": "EXP-OWN"}))
        await session.flush()  # the company's own rows: accepted

        session.add(
            Expense(**fields | {"ref": "EXP-THEIRS", column: await first_id(session, target, globex)})
        )
        with pytest.raises(IntegrityError, match=FOREIGN_KEY):
            await session.flush()


async def test_an_expense_cannot_be_recategorized_into_another_companys_category(seeded_url: str) -> None:
    async with rolled_back(seeded_url) as session:
        acme, globex = await company_ids(session)
        expense = await session.scalar(select(Expense).where(Expense.company_id == acme).limit(1))
        assert expense is not None
        expense.category_id = await first_id(session, "categories", acme)
        await session.flush()

        expense.category_id = await first_id(session, "categories", globex)
        with pytest.raises(IntegrityError, match=FOREIGN_KEY):
            await session.flush()


@pytest.mark.parametrize(
    ("table", "column", "target"), REFERENCES, ids=[f"{t}.{c}" for t, c, _ in REFERENCES]
)
async def test_no_row_can_name_another_companys_row(
    seeded_url: str, table: str, column: str, target: str
) -> None:
    rows, targets = Base.metadata.tables[table], Base.metadata.tables[target]
    key = list(rows.primary_key.columns)
    async with rolled_back(seeded_url) as session:
        acme, globex = await company_ids(session)
        ours = await _a_row(session, table, acme)
        # Not one a row with the rest of our row's primary key names: the primary key must not collide first.
        named = select(rows.c[column]).where(
            rows.c[column].is_not(None),
            *(c == value for c, value in zip(key, ours, strict=True) if c.name != column),
        )
        theirs = await session.scalar(
            select(func.min(targets.c.id)).where(
                targets.c.company_id == globex,
                targets.c.id.not_in(named),
                *await _unique_elsewhere(session, rows, column, key, ours, targets),
            )
        )
        assert theirs is not None

        one_row = [c == value for c, value in zip(key, ours, strict=True)]
        with pytest.raises(IntegrityError, match=FOREIGN_KEY):
            await session.execute(update(rows).where(*one_row).values({column: theirs}))


async def _unique_elsewhere(
    session: AsyncSession,
    rows: Table,
    column: str,
    key: list[Column[Any]],
    ours: tuple[Any, ...],
    targets: Table,
) -> list[ColumnElement[bool]]:
    """Nor one a unique index would refuse before the reference is checked: with the rest of the index's
    columns as in our row (one decision per request and step), the row must not be taken there already."""
    mine = (
        await session.execute(select(rows).where(*(c == v for c, v in zip(key, ours, strict=True))))
    ).one()
    return [
        targets.c.id.not_in(
            select(rows.c[column]).where(
                rows.c[column].is_not(None),  # NOT IN a list holding NULL holds for no row
                *(rows.c[c.name] == getattr(mine, c.name) for c in index.columns if c.name != column),
            )
        )
        for index in rows.indexes
        if index.unique and column in index.columns
    ]


async def _a_row(session: AsyncSession, table: str, company_id: int) -> tuple[Any, ...]:
    """The primary key of one of the company's rows of `table`: one of the shared world's, or one added in
    the session's transaction where the world has none (or none whose key another company lacks)."""
    if table == "job_files":
        return await _a_job_file(session, company_id)
    category = await first_id(session, "categories", company_id)
    expense = await first_id(session, "expenses", company_id)
    added = {
        "category_rules": CategoryRule(
            company_id=company_id, merchant_key="probe", merchant="Probe", category_id=category
        ),
        "category_corrections": CategoryCorrection(
            company_id=company_id,
            expense_id=expense,
            merchant_key="probe",
            category_id=category,
            subject="test",
        ),
        # The world's companies share dimension names, and (expense_id, name) is the key.
        "expense_dimensions": ExpenseDimension(
            company_id=company_id, expense_id=expense, name="probe", value="probe"
        ),
    }.get(table)
    if added is not None:
        session.add(added)
        await session.flush()
        return tuple(inspect(added).identity or ())
    rows = Base.metadata.tables[table]
    key = rows.primary_key.columns
    return tuple((await session.execute(select(*key).where(rows.c.company_id == company_id).limit(1))).one())


async def _a_job_file(session: AsyncSession, company_id: int) -> tuple[Any, ...]:
    """A staged file of one of the company's jobs; every company gets a job (the world has none)."""
    jobs = {c: Job(company_id=c, kind="probe", requested_by="test") for c in await company_ids(session)}
    session.add_all(jobs.values())
    await session.flush()
    staged = JobFile(company_id=company_id, job_id=jobs[company_id].id, name="probe.csv", size=0, content=b"")
    session.add(staged)
    await session.flush()
    return tuple(inspect(staged).identity or ())


@pytest.mark.parametrize("seeded_url", ["postgresql"], indirect=True)
async def test_a_tool_call_cannot_write_a_category_its_company_cannot_see(seeded_url: str) -> None:
    async with rolled_back(seeded_url) as session:
        acme, globex = await company_ids(session)
        theirs = await first_id(session, "categories", globex)
        await enter_tenant(session, Settings(database_url=seeded_url), acme)
        assert await session.get(Category, theirs) is None  # row security hides it

        with pytest.raises(IntegrityError, match=FOREIGN_KEY):
            await session.execute(
                update(Expense).where(Expense.company_id == acme).values(category_id=theirs)
            )


def test_the_references_keep_their_on_delete() -> None:
    """The three CASCADEs into expenses (and a staged file's into its job) stay; none is SET NULL, which
    would null company_id too."""
    on_delete = {
        (fk.table.name, fk.columns[1].name): fk.ondelete
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_key_constraints
        if fk.ondelete is not None and len(fk.columns) == 2
    }
    assert on_delete == {
        ("expense_dimensions", "expense_id"): "CASCADE",
        ("category_corrections", "expense_id"): "CASCADE",
        ("repeat_charges", "expense_id"): "CASCADE",
        ("job_files", "job_id"): "CASCADE",
    }
