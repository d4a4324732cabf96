"""Whole-database snapshots, to assert that a failed import changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.models import Base


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in id order (the test databases are small)."""
    async with engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in await connection.execute(select(table).order_by(*table.primary_key))
            ]
            for table in Base.metadata.sorted_tables
        }


async def row_counts(engine: AsyncEngine, company_id: int | None = None) -> dict[str, int]:
    """Rows per tenant table, for one company or all."""
    counts = {}
    async with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            query = select(func.count()).select_from(table)
            if company_id is not None and "company_id" in table.c:
                query = query.where(table.c.company_id == company_id)
            counts[table.name] = (await connection.execute(query)).scalar_one()
    return counts
