"""The scenario company's expenses as a trial left them, for database checks (docs/evals.md, "Database").

Reads only, and only the one company's rows: a check can never see, nor pass on, another tenant's data.
Rows are plain dicts of the columns scenarios name (`EXPENSE_COLUMNS`): amounts as decimal strings in
major units of the expense's own currency, dates as ISO text, people by e-mail, teams by name, categories
by code. Filtering happens in Python with the scenario matchers, so a check means the same on SQLite and
PostgreSQL (case, numeric text, dates) whatever each database's collation would say.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from evals.harness.matching import match
from evals.harness.transcript import InfrastructureError
from server.db.engine import create_engine
from server.db.models import Category, Company, Employee, Expense, Merchant, Team
from server.kit.money import format_amount

# The fields whose change `database_unchanged` looks for: what a write tool may set on an expense.
WRITTEN = ("category", "category_source", "status")


class DatabaseProbe:
    def __init__(self, engine: AsyncEngine, company_id: int) -> None:
        self._engine = engine
        self._company_id = company_id

    @classmethod
    @asynccontextmanager
    async def open(cls, database_url: str, company_slug: str) -> AsyncIterator[DatabaseProbe]:
        """A probe on its own engine (disposed on exit); a company that is not there is infrastructure."""
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                company_id = await connection.scalar(select(Company.id).where(Company.slug == company_slug))
            if company_id is None:
                raise InfrastructureError(f"the database holds no company {company_slug!r}")
            yield cls(engine, company_id)
        finally:
            await engine.dispose()

    async def expenses(self, where: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The company's expenses (by ref) whose columns match `where` (column → value or matcher)."""
        wanted = dict(where or {})
        return [row for row in await self._rows() if match(wanted, row) is None]

    async def fingerprint(self) -> str:
        """A digest of every expense's ref and written fields: equal before and after = nothing written."""
        rows = [[row["ref"], *(row[field] for field in WRITTEN)] for row in await self._rows()]
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()

    async def _rows(self) -> list[dict[str, Any]]:
        async with self._engine.connect() as connection:
            result = await connection.execute(_expenses(self._company_id))
            return [_row(row) for row in result]


def _expenses(company_id: int) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Expense.ref,
            Expense.spent_on,
            Expense.amount_minor,
            Expense.currency,
            Merchant.name.label("merchant"),
            Expense.descriptor,
            Expense.memo,
            Team.name.label("team"),
            Employee.email.label("employee"),
            Expense.status,
            Category.code.label("category"),
            Expense.category_source,
            Expense.category_confidence,
            Expense.receipt_present,
        )
        .join(Merchant, Merchant.id == Expense.merchant_id)
        .join(Team, Team.id == Expense.team_id)
        .outerjoin(Employee, Employee.id == Expense.employee_id)
        .outerjoin(Category, Category.id == Expense.category_id)
        .where(Expense.company_id == company_id)
        .order_by(Expense.ref)
    )


def _row(row: Row[Any]) -> dict[str, Any]:
    values = row._asdict()
    minor = values.pop("amount_minor")
    return values | {
        "spent_on": row.spent_on.isoformat(),
        "amount": format_amount(minor, row.currency),
        "receipt_present": bool(row.receipt_present),
    }
