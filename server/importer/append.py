"""`--append`: add a dataset's new expenses, requests and decisions to a company that exists.

An expense is new when its id is not the company's yet. One that is there is left as it is (its team,
category and status may have moved on since), but its transaction must be the same one: a different
date, descriptor, amount, currency or settled amount under an existing id is a problem, and nothing is
written. Teams, employees, categories and merchants the rows name are added when they are new, never
changed; the company, its budgets, policy, exchange rates and category rules are not touched. The rollups
are rebuilt and each merchant's MCC recounted from all its expenses, so a company built by appending
months one by one is the company a single import of them all gives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.rollups import rebuild_spend_rollups
from server.importer.dataset import Dataset
from server.importer.history import History
from server.importer.problems import ImportFailed, Problem
from server.importer.spend import Expenses
from server.importer.store import ExpenseRow, expense
from server.importer.writer import (
    LOOKUP,
    TABLES,
    Counts,
    insert_with_ids,
    most_common,
    organization,
    update_by_id,
    write_expenses,
    write_history,
)

Facts = tuple[object, ...]  # what makes a transaction that one: date, descriptor, amounts, currency
FACTS = ("spent_on", "descriptor", "amount_minor", "currency", "amount_company_minor")
# How the import format names them, for the problem.
NAMES = dict(zip(FACTS, ("date", "descriptor", "amount", "currency", "amount_company"), strict=True))


@dataclass(frozen=True)
class NewRows:
    """The part of a dataset the company does not have yet, and how much of it was there already."""

    data: Dataset
    expenses_there: int
    requests_there: int


async def new_rows(session: AsyncSession, data: Dataset, company_id: int, file: str) -> NewRows:
    """Split `data` into what is new to the company; `ImportFailed` when an id the company has names a
    different transaction (nothing is written: this only reads)."""
    fresh, problems = Expenses(dimensions=data.expenses.dimensions), []
    # A batch of the file at a time: memory holds one batch's stored facts, however large the file or
    # the company (a whole year appended again to a company that has it).
    for batch in data.expenses.rows.batches():
        rows = [expense(r) for r in batch]
        stored = await _stored_facts(session, company_id, {e.ref for e in rows})
        for e in rows:
            if e.ref not in stored:
                fresh.keep(e)
            elif (problem := _conflict(file, e, stored[e.ref])) is not None:
                problems.append(problem)
    if problems:
        fresh.rows.close()
        raise ImportFailed(problems)
    teams = await _keys(session, "teams", "name", company_id)
    employees = await _keys(session, "employees", "email", company_id)
    categories = await _keys(session, "categories", "code", company_id)
    requests = await _keys(session, "approval_requests", "ref", company_id)
    history = History(
        {ref: r for ref, r in data.history.requests.items() if ref not in requests},
        [d for d in data.history.decisions if d.request not in requests],
    )
    new = dataclasses.replace(
        data,
        teams=[t for t in data.teams if t.name not in teams],
        employees=[p for p in data.employees if p.email not in employees],
        categories=[c for c in data.categories if c.code not in categories],
        expenses=fresh,
        history=history,
    )
    return NewRows(
        new, len(data.expenses.rows) - len(fresh.rows), len(data.history.requests) - len(history.requests)
    )


async def append_dataset(session: AsyncSession, data: Dataset, company_id: int, now: dt.datetime) -> Counts:
    """Write `data`, the new rows `new_rows` found, into the company; the rows added per table."""
    ids = await organization(session, data, company_id)
    merchants = await _merchants(session, data.expenses, company_id)
    rows = data.expenses.rows
    dimensions = await write_expenses(session, rows, ids, merchants, now)
    await write_history(session, data, ids)
    await _declare_dimensions(session, company_id, data.expenses.dimensions)
    if rows:  # a statement imported again changes nothing the rollups or the merchants' MCCs count
        await _recount_mccs(session, company_id, {merchants[name] for name in data.expenses.merchant_mccs})
        await rebuild_spend_rollups(session, company_id)
    return Counts.of(  # an append adds no budgets, rates or rules
        data,
        merchants=len(set(data.expenses.merchant_mccs) - merchants.before),
        expenses=len(rows),
        budgets=0,
        fx_rates=0,
        category_rules=0,
        expense_dimensions=dimensions,
    )


def _conflict(file: str, row: ExpenseRow, stored: Facts) -> Problem | None:
    given = (row.spent_on, row.descriptor, row.money.amount_minor, row.money.currency,
             row.money.amount_company_minor)  # fmt: skip
    differing = [NAMES[name] for name, a, b in zip(FACTS, given, stored, strict=True) if a != b]
    if not differing:
        return None
    message = (
        f"expense {row.ref!r} is already in the company with another {', '.join(differing)}; an append "
        "never changes an expense (give this one another id, or use --replace)"
    )
    return Problem(file, row.line, "id", message)


async def _stored_facts(session: AsyncSession, company_id: int, refs: set[str]) -> dict[str, Facts]:
    table = TABLES["expenses"]
    query = select(table.c.ref, *(table.c[name] for name in FACTS)).where(table.c.company_id == company_id)
    found: dict[str, Facts] = {}
    wanted = sorted(refs)
    for start in range(0, len(wanted), LOOKUP):
        batch = query.where(table.c.ref.in_(wanted[start : start + LOOKUP]))
        found.update({row[0]: tuple(row[1:]) for row in await session.execute(batch)})
    return found


async def _keys(session: AsyncSession, table_name: str, key: str, company_id: int) -> set[str]:
    table = TABLES[table_name]
    return set(await session.scalars(select(table.c[key]).where(table.c.company_id == company_id)))


class _Merchants(dict[str, int]):
    """Merchant ids by name, and the names the company had before this append."""

    before: frozenset[str] = frozenset()


async def _merchants(session: AsyncSession, expenses: Expenses, company_id: int) -> _Merchants:
    table = TABLES["merchants"]
    query = select(table.c.name).where(table.c.company_id == company_id)
    before = frozenset(await session.scalars(query))
    rows = [
        {"company_id": company_id, "name": name, "mcc": most_common(mccs)}
        for name, mccs in expenses.merchant_mccs.items()
        if name not in before
    ]
    merchants = _Merchants(await insert_with_ids(session, table, "name", rows, company_id))
    merchants.before = before
    return merchants


async def _recount_mccs(session: AsyncSession, company_id: int, merchant_ids: Iterable[int]) -> None:
    """Each merchant's MCC: the one most often seen on all its expenses (ties: the lowest code), as a
    single import of every month would have chosen it."""
    expenses, merchants = TABLES["expenses"], TABLES["merchants"]
    wanted = set(merchant_ids)
    seen: dict[int, Counter[str]] = {id_: Counter() for id_ in wanted}
    query = (
        select(expenses.c.merchant_id, expenses.c.mcc, func.count())
        .where(expenses.c.company_id == company_id, expenses.c.mcc.is_not(None))
        .group_by(expenses.c.merchant_id, expenses.c.mcc)
    )
    for merchant_id, mcc, count in await session.execute(query):
        if merchant_id in wanted:
            seen[merchant_id][mcc] += count
    current = select(merchants.c.id, merchants.c.mcc).where(merchants.c.company_id == company_id)
    changed = [
        {"row_id": id_, "mcc": most_common(seen[id_])}
        for id_, mcc in await session.execute(current)
        if id_ in wanted and most_common(seen[id_]) != mcc
    ]
    await update_by_id(session, merchants, changed)


async def _declare_dimensions(session: AsyncSession, company_id: int, names: list[str]) -> None:
    """The company's free dimensions: those it had and those of the appended rows."""
    companies = TABLES["companies"]
    query = select(companies.c.dimensions).where(companies.c.id == company_id)
    had = list((await session.execute(query)).scalar_one() or [])
    merged = sorted({*had, *names})
    if merged != sorted(had):
        await session.execute(update(companies).where(companies.c.id == company_id).values(dimensions=merged))
