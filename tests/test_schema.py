"""The migrations build the schema the models describe, on both backends: columns, types, keys, unique
constraints, indexes and foreign keys (with the composite references of migration 0013)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from server.db.engine import create_engine, create_session_factory
from server.db.models import Base, Expense
from tests import factories as f

pytestmark = pytest.mark.anyio


def _compared(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    # procrastinate's own tables (migration 0020) are the queue's, not the models'.
    return not (kind == "table" and (name or "").startswith("procrastinate_"))


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _compared})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_the_receipt_key_is_the_receipt_id_trimmed_in_lower_case(database_url: str) -> None:
    """expenses.receipt_key is the database's own (migration 0019): written on insert and on update."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            company = await f.make_company(session)
            team = await f.make_team(session, company=company, name="Sales")
            ann = await f.make_employee(session, company=company, team=team, name="Ann Lee")
            hotel = await f.make_merchant(session, company=company, name="Hotel Adlon")
            day = dt.date(2026, 7, 1)
            expense = await f.make_expense(
                session, company=company, employee=ann, merchant=hotel, ref="E", spent_on=day
            )
            keys = []
            for receipt_id in (" INV-77 ", "r-9", None):
                await session.execute(
                    update(Expense).where(Expense.id == expense.id).values(receipt_id=receipt_id)
                )
                keys.append(await session.scalar(select(Expense.receipt_key).where(Expense.id == expense.id)))
    finally:
        await engine.dispose()
    assert keys == ["inv-77", "r-9", None]
