"""Writing a checked `Dataset` in the caller's transaction: bulk inserts of plain dicts, ids resolved
in memory, no ORM objects per row (a benchmark company has millions of expenses), the expenses read back
from their store a batch at a time (server/importer/store.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import progress
from server.db.models import Base
from server.db.rollups import rebuild_spend_rollups
from server.importer.dataset import Dataset
from server.importer.store import DIMENSIONS, REF, ExpenseStore, Record

CHUNK = 5000
LOOKUP = 1000  # refs per lookup of expense ids
TABLES = Base.metadata.tables
# Tables with a company_id that an import does not replace: the audit trail survives a --replace.
KEPT = frozenset({"data_changes"})
OF_JOB = {"jobs": "id", "job_files": "job_id"}  # tables with rows of one job: the column naming it

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Counts:
    teams: int
    employees: int
    categories: int
    merchants: int
    expenses: int
    budgets: int
    approval_requests: int
    approval_decisions: int
    fx_rates: int
    category_rules: int
    expense_dimensions: int

    @classmethod
    def of(cls, data: Dataset, **written: int) -> Counts:
        """What `data` holds, with what was really written in its place where that differs."""
        held = {
            "teams": len(data.teams),
            "employees": len(data.employees),
            "categories": len(data.categories),
            "merchants": len(data.expenses.merchant_mccs),
            "expenses": len(data.expenses.rows),
            "budgets": len(data.budgets),
            "approval_requests": len(data.history.requests),
            "approval_decisions": len(data.history.decisions),
            "fx_rates": len(data.fx_rates),
            "category_rules": len(data.category_rules),
            "expense_dimensions": data.expenses.rows.dimension_cells,
        }
        return cls(**(held | written))


@dataclass(frozen=True)
class Ids:
    """Database ids by natural key."""

    company: int
    teams: dict[str, int]
    employees: dict[str, int]
    categories: dict[str, int]
    # The team each employee belongs to: the default team of their expenses and requests.
    home_team: dict[str, int]


def chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def insert_rows(session: AsyncSession, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    batch: Rows = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            await session.execute(insert(table), batch)
            batch = []
    if batch:
        await session.execute(insert(table), batch)


async def insert_with_ids(
    session: AsyncSession, table: Table, key: str, rows: Rows, company_id: int
) -> dict[str, int]:
    """Insert one company's rows, then read back the ids of all its rows by natural key (`key` is unique
    per company): those inserted, and those an earlier import left (an append adds to them).

    Cheaper than RETURNING with ordered ids, which SQLite can only do one row per statement."""
    await insert_rows(session, table, rows)
    query = select(table.c[key], table.c.id).where(table.c.company_id == company_id)
    return {name: id_ for name, id_ in await session.execute(query)}


async def update_by_id(session: AsyncSession, table: Table, rows: Rows) -> None:
    """Set columns by id; each row is {"row_id": id, column: value, ...} with the same columns."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != "row_id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )
    renamed = [{"row_id": row["row_id"], **{f"new_{name}": row[name] for name in columns}} for row in rows]
    for chunk in chunks(renamed):
        await session.execute(statement, chunk)


async def delete_company_data(session: AsyncSession, company_id: int, *, keep_job: int | None = None) -> None:
    """Every tenant row of one company except its audit trail, children before parents; `keep_job`: the
    queued import doing the replacing keeps its job row and files (they commit with its success)."""
    teams = TABLES["teams"]
    await session.execute(update(teams).where(teams.c.company_id == company_id).values(manager_id=None))
    for table in reversed(Base.metadata.sorted_tables):
        if "company_id" in table.c and table.name not in KEPT:
            query = delete(table).where(table.c.company_id == company_id)
            if keep_job is not None and table.name in OF_JOB:
                query = query.where(table.c[OF_JOB[table.name]] != keep_job)
            await session.execute(query)


async def write_company(session: AsyncSession, data: Dataset, company_id: int | None) -> int:
    """Insert the company, or update the one being replaced; its id."""
    companies = TABLES["companies"]
    company = data.company
    values = {
        "slug": company.slug,
        "name": company.name,
        "currency": company.currency,
        "categorize_review_threshold": company.review_threshold,
        "categorize_auto_apply_threshold": company.auto_apply_threshold,
        "dimensions": data.expenses.dimensions,
        "categorize_auto_apply_given": company.auto_apply_given,
        "categorize_target_precision": company.target_precision,
        "country": company.country,
    }
    if company_id is not None:
        await session.execute(update(companies).where(companies.c.id == company_id).values(values))
        return company_id
    result = await session.execute(insert(companies).values(values).returning(companies.c.id))
    return int(result.scalar_one())


async def write_dataset(session: AsyncSession, data: Dataset, company_id: int, now: dt.datetime) -> Counts:
    ids = await organization(session, data, company_id)
    merchants = await _merchants(session, data, company_id)
    dimensions = await write_expenses(session, data.expenses.rows, ids, merchants, now)
    await insert_rows(session, TABLES["budgets"], _budget_rows(data, ids))
    if data.policy is not None:  # a flat export brings none: approval tools then say none is loaded
        policy = data.policy.model_dump(mode="json", exclude_none=True)
        row = {"company_id": company_id, "version": 1, "document": policy, "created_at": now}
        await session.execute(insert(TABLES["approval_policies"]), [row])
    if data.expense_policy is not None:  # without one, review_expenses looks for its patterns only
        document = data.expense_policy.model_dump(mode="json", exclude_none=True)
        row = {"company_id": company_id, "version": 1, "document": document, "created_at": now}
        await session.execute(insert(TABLES["expense_policies"]), [row])
    await write_history(session, data, ids)
    await insert_rows(session, TABLES["fx_rates"], _fx_rows(data, company_id))
    await insert_rows(session, TABLES["category_rules"], _rule_rows(data, ids))
    await rebuild_spend_rollups(session, company_id)
    return Counts.of(
        data,
        teams=len(ids.teams),
        employees=len(ids.employees),
        categories=len(ids.categories),
        merchants=len(merchants),
        expense_dimensions=dimensions,
    )


async def organization(session: AsyncSession, data: Dataset, company_id: int) -> Ids:
    """Teams and employees point at each other: teams first without their links, then employees, then
    the links (parents, managers, delegates) by update."""
    rows: Rows = [
        {"company_id": company_id, "name": t.name, "cost_center": t.cost_center} for t in data.teams
    ]
    teams = await insert_with_ids(session, TABLES["teams"], "name", rows, company_id)
    people = data.employees
    rows = [
        {
            "company_id": company_id,
            "email": p.email,
            "name": p.name,
            "team_id": teams[p.team],
            "role": p.role,
            "approval_limit_minor": p.approval_limit_minor,
            "active": p.active,
            "out_of_office_from": p.out_of_office_from,
            "out_of_office_until": p.out_of_office_until,
        }
        for p in people
    ]
    employees = await insert_with_ids(session, TABLES["employees"], "email", rows, company_id)
    links = [
        {
            "row_id": employees[p.email],
            "manager_id": employees.get(p.manager_email or ""),
            "delegate_id": employees.get(p.delegate_email or ""),
        }
        for p in people
        if p.manager_email or p.delegate_email
    ]
    await update_by_id(session, TABLES["employees"], links)
    links = [
        {
            "row_id": teams[t.name],
            "parent_id": teams.get(t.parent or ""),
            "manager_id": employees.get(t.manager_email or ""),
        }
        for t in data.teams
        if t.parent or t.manager_email
    ]
    await update_by_id(session, TABLES["teams"], links)
    categories = await _categories(session, data, company_id)
    home_team = await _home_teams(session, company_id)
    return Ids(company_id, teams, employees, categories, home_team)


async def _home_teams(session: AsyncSession, company_id: int) -> dict[str, int]:
    """Each employee's team by e-mail: those of the file, and those an earlier import left."""
    table = TABLES["employees"]
    query = select(table.c.email, table.c.team_id).where(table.c.company_id == company_id)
    return {email: team for email, team in await session.execute(query)}


async def _categories(session: AsyncSession, data: Dataset, company_id: int) -> dict[str, int]:
    rows = [
        {
            "company_id": company_id,
            "code": c.code,
            "name": c.name,
            "gl_account": c.gl_account,
            "vat_rate_bp": c.vat_rate_bp,
            "description": c.description,
            "mcc_codes": list(c.mcc_codes),
        }
        for c in data.categories
    ]
    table = TABLES["categories"]
    ids = await insert_with_ids(session, table, "code", rows, company_id)
    parents = [
        {"row_id": ids[c.code], "parent_id": ids[c.parent_code]} for c in data.categories if c.parent_code
    ]
    await update_by_id(session, table, parents)
    return ids


async def _merchants(session: AsyncSession, data: Dataset, company_id: int) -> dict[str, int]:
    """One merchant per name, with the MCC most often seen on its expenses (ties: the lowest code)."""
    names = list(data.expenses.merchant_mccs)
    rows = [
        {"company_id": company_id, "name": name, "mcc": most_common(data.expenses.merchant_mccs[name])}
        for name in names
    ]
    return await insert_with_ids(session, TABLES["merchants"], "name", rows, company_id)


def most_common(mccs: Counter[str]) -> str | None:
    return min(mccs.items(), key=lambda item: (-item[1], item[0]))[0] if mccs else None


def expense_rows(
    batch: Iterable[Record], ids: Ids, merchants: dict[str, int], now: dt.datetime
) -> Iterator[dict[str, Any]]:
    company_id, teams, employees, categories = ids.company, ids.teams, ids.employees, ids.categories
    day = dt.date.fromordinal
    for (ref, spent_on, employee, team, descriptor, merchant, mcc, amount, currency, settled, memo, status,
         payment_type, category, source, receipt, cost_center, project, _, _, card, receipt_id,
         country) in batch:  # fmt: skip
        yield {
            "company_id": company_id,
            "ref": ref,
            "descriptor": descriptor,
            "merchant_id": merchants[merchant],
            "mcc": mcc,
            "amount_minor": amount,
            "currency": currency,
            "amount_company_minor": settled,
            "spent_on": day(spent_on),
            "employee_id": employees[employee] if employee else None,
            "team_id": teams[team] if team else ids.home_team[employee or ""],
            "memo": memo,
            "status": status,
            "payment_type": payment_type,
            "category_id": categories[category] if category else None,
            "category_source": source,
            "category_confidence": None,
            "receipt_present": receipt,
            "created_at": now,
            "cost_center": cost_center,
            "project": project,
            "card": card,
            "receipt_id": receipt_id,
            "country": country,
        }


async def write_expenses(
    session: AsyncSession, store: ExpenseStore, ids: Ids, merchants: dict[str, int], now: dt.datetime
) -> int:
    """Insert the stored expenses a batch at a time (memory: one batch, whatever the file), each batch's
    dim_<name> cells right after it; how many expense_dimensions rows."""
    dimensions = 0
    for batch in store.batches():
        await session.execute(insert(TABLES["expenses"]), list(expense_rows(batch, ids, merchants, now)))
        progress.advance(len(batch))  # `outlay import`'s bar
        dimensions += await _dimensions(session, batch, ids.company)
    return dimensions


async def _dimensions(session: AsyncSession, batch: list[Record], company_id: int) -> int:
    """One expense_dimensions row per non-empty dim_<name> cell of the batch's expenses (inserted
    already: their ids are read back by ref); how many."""
    tagged = [r for r in batch if r[DIMENSIONS]]
    if not tagged:
        return 0
    ids = await expense_ids(session, company_id, {r[REF] for r in tagged})
    rows = [
        {"expense_id": ids[r[REF]], "name": name, "company_id": company_id, "value": value}
        for r in tagged
        for name, value in r[DIMENSIONS]
    ]
    await insert_rows(session, TABLES["expense_dimensions"], rows)
    return len(rows)


def _budget_rows(data: Dataset, ids: Ids) -> Iterator[dict[str, Any]]:
    for b in data.budgets:
        yield {
            "company_id": ids.company,
            "team_id": ids.teams[b.team],
            "category_id": ids.categories[b.category] if b.category else None,
            "period_start": b.period_start,
            "period_end": b.period_end,
            "amount_minor": b.amount_minor,
            "currency": b.currency,
        }


def _fx_rows(data: Dataset, company_id: int) -> Iterator[dict[str, Any]]:
    for r in data.fx_rates:
        yield {
            "company_id": company_id,
            "currency": r.currency,
            "rate": str(r.rate),
            "valid_from": r.valid_from,
        }


async def write_history(session: AsyncSession, data: Dataset, ids: Ids) -> None:
    requests = list(data.history.requests.values())
    expenses = await expense_ids(session, ids.company, {r.expense for r in requests if r.expense})
    rows = [
        {
            "company_id": ids.company,
            "ref": r.ref,
            "requester_id": ids.employees[r.requester],
            "team_id": ids.teams[r.team] if r.team else ids.home_team[r.requester],
            "category_id": ids.categories[r.category] if r.category else None,
            "amount_minor": r.money.amount_minor,
            "currency": r.money.currency,
            "amount_company_minor": r.money.amount_company_minor,
            "payment_type": r.payment_type.value,
            "description": r.description,
            "status": r.status.value,
            "submitted_at": r.submitted_at,
            "expense_id": expenses[r.expense] if r.expense else None,
        }
        for r in requests
    ]
    table = TABLES["approval_requests"]
    request_ids = await insert_with_ids(session, table, "ref", rows, ids.company)
    decisions = (
        {
            "company_id": ids.company,
            "request_id": request_ids[d.request],
            "step": d.step,
            "approver_id": ids.employees[d.approver],
            "on_behalf_of_id": ids.employees[d.on_behalf_of] if d.on_behalf_of else None,
            "decision": d.decision.value,
            "decided_at": d.decided_at,
        }
        for d in data.history.decisions
    )
    await insert_rows(session, TABLES["approval_decisions"], decisions)


async def expense_ids(session: AsyncSession, company_id: int, refs: set[str] | None) -> dict[str, int]:
    """Expense ids by ref: of `refs`, or of every expense of the company (None: one query instead of
    thousands of lookups, when most are wanted)."""
    table = TABLES["expenses"]
    query = select(table.c.ref, table.c.id).where(table.c.company_id == company_id)
    if refs is None:
        return {ref: id_ for ref, id_ in await session.execute(query)}
    found, wanted = {}, sorted(refs)
    for start in range(0, len(wanted), LOOKUP):
        batch = query.where(table.c.ref.in_(wanted[start : start + LOOKUP]))
        found.update({ref: id_ for ref, id_ in await session.execute(batch)})
    return found


def _rule_rows(data: Dataset, ids: Ids) -> Iterator[dict[str, Any]]:
    for r in data.category_rules:
        yield {
            "company_id": ids.company,
            "merchant_key": r.merchant_key,
            "merchant": r.merchant,
            "category_id": ids.categories[r.category],
        }
