"""The expenses' own dimensions in the import format: cost_center, project and any dim_<name> columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.db.models import Company, Expense, ExpenseDimension
from server.importer import ImportFailed, import_company, writer
from tests.importer.conftest import copy_valid
from tests.importer.edits import add_columns
from tests.importer.snapshot import snapshot

pytestmark = pytest.mark.anyio

E = "expenses.csv"
# Columns in no particular order; dim_grant is declared but empty on every row.
TAGGED = add_columns(
    E,
    {
        "dim_location": {"E-001": "Berlin", "E-002": "Paris", "E-020": "Berlin"},
        "cost_center": {"E-001": "CC-ENG", "E-004": "CC-ENG", "E-020": "CC-ENG"},
        "project": {"E-004": "NYC offsite"},
        "dim_fund": {"E-001": "GF01", "E-004": "RF02"},
        "dim_grant": {},
    },
)


Tags = tuple[list[tuple[str | None, ...]], list[tuple[str | None, ...]]]


async def expense_tags(engine: AsyncEngine, slug: str) -> Tags:
    """The company's (ref, cost center, project) of expenses that have either, and (ref, name, value)."""
    async with engine.connect() as connection:
        company = (await connection.execute(select(Company.id).where(Company.slug == slug))).scalar_one()
        columns = select(Expense.ref, Expense.cost_center, Expense.project).where(
            Expense.company_id == company, (Expense.cost_center.is_not(None)) | (Expense.project.is_not(None))
        )
        dimensions = (
            select(Expense.ref, ExpenseDimension.name, ExpenseDimension.value)
            .join(Expense, Expense.id == ExpenseDimension.expense_id)
            .where(ExpenseDimension.company_id == company, Expense.company_id == company)
        )
        return (
            sorted(tuple(row) for row in await connection.execute(columns)),
            sorted(tuple(row) for row in await connection.execute(dimensions)),
        )


async def declared(engine: AsyncEngine, slug: str) -> list[str]:
    async with engine.connect() as connection:
        return list(
            (await connection.execute(select(Company.dimensions).where(Company.slug == slug))).scalar_one()
        )


@pytest.mark.parametrize("lookup", [writer.LOOKUP, 1], ids=["by-ref", "whole-company"])
async def test_writes_each_expenses_dimensions(
    engine: AsyncEngine, folder: Path, lookup: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids of the tagged expenses come from lookups by ref, or (many tagged) from one read of them all."""
    monkeypatch.setattr(writer, "LOOKUP", lookup)
    TAGGED(folder)

    report = await import_company(create_session_factory(engine), folder)

    assert report.expense_dimensions == 5
    assert await expense_tags(engine, "acme") == (
        [("E-001", "CC-ENG", None), ("E-004", "CC-ENG", "NYC offsite"), ("E-020", "CC-ENG", None)],
        [
            ("E-001", "fund", "GF01"),
            ("E-001", "location", "Berlin"),
            ("E-002", "location", "Paris"),
            ("E-004", "fund", "RF02"),
            ("E-020", "location", "Berlin"),
        ],
    )
    assert await declared(engine, "acme") == ["fund", "grant", "location"]


async def test_replace_replaces_the_dimensions_of_that_company_only(
    engine: AsyncEngine, folder: Path, tmp_path: Path
) -> None:
    sessions = create_session_factory(engine)
    TAGGED(folder)
    await import_company(sessions, folder)
    globex = copy_valid(tmp_path / "globex", slug="globex")
    TAGGED(globex)
    await import_company(sessions, globex)
    theirs = await expense_tags(engine, "globex")
    again = copy_valid(tmp_path / "acme-v2")
    add_columns(E, {"dim_fund": {"E-003": "GF02"}})(again)

    report = await import_company(sessions, again, replace=True)

    assert report.expense_dimensions == 1
    assert await expense_tags(engine, "acme") == ([], [("E-003", "fund", "GF02")])
    assert await declared(engine, "acme") == ["fund"]
    assert await expense_tags(engine, "globex") == theirs
    assert await declared(engine, "globex") == ["fund", "grant", "location"]
    assert len(theirs[1]) == 5


async def test_bad_dimension_columns_and_cells_are_reported(folder: Path, globex_engine: AsyncEngine) -> None:
    long_name = "n" * 65
    add_columns(
        E,
        {
            "dim_": {"E-001": "x"},
            f"dim_{long_name}": {},
            f"dim_{'n' * 64}": {"E-005": "the longest name there may be"},
            "dim_fund": {"E-002": "v" * 201, "E-003": "v" * 200},
            "cost_center": {"E-003": "C" * 65},
            "project": {"E-004": "P" * 65},
            "dimfund": {},
        },
    )(folder)
    before = await snapshot(globex_engine)

    with pytest.raises(ImportFailed) as failed:
        await import_company(create_session_factory(globex_engine), folder)

    assert [str(problem) for problem in failed.value.problems] == [
        "expenses.csv:1: dim_: no name after 'dim_'; name the column dim_<name>",
        f"expenses.csv:1: dim_{long_name}: the name after 'dim_' is longer than 64 characters",
        "expenses.csv:1: dimfund: unknown column 'dimfund'; expected: id, date, descriptor, amount, "
        "currency, employee_email, team, merchant, mcc, amount_company, memo, status, payment_type, "
        "category_code, category_source, receipt, cost_center, project, card, receipt_id, country, "
        "dim_<name>",
        "expenses.csv:3: dim_fund: longer than 200 characters",
        "expenses.csv:4: cost_center: longer than 64 characters",
        "expenses.csv:5: project: longer than 64 characters",
    ]
    assert await snapshot(globex_engine) == before
