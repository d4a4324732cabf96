"""What `outlay policy load FILE` stores and `outlay policy show` reads, in the caller's session.

A load checks the file as an import checks expense_policy.json (its categories and exchange rates are the
company's in the database) and stores it as the company's next version, which is in force from then on;
the earlier versions stay. It is recorded in `data_changes`, in the same transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit import changes
from server.db.models import Category, Company, FxRate, utcnow
from server.db.models import ExpensePolicy as ExpensePolicyRow
from server.db.tenancy import LOAD_A_COMPANY, loaded_slugs
from server.errors import NotFound
from server.importer.checks import Known
from server.importer.expense_policy_file import read_expense_policy_file
from server.importer.problems import ImportFailed, Problems
from server.kit.expense_policies import expense_policy_in_force
from server.kit.expense_policy import ExpensePolicy

ACTION = "load_expense_policy"


@dataclass(frozen=True)
class LoadedPolicy:
    company: str  # slug
    version: int
    rules: int
    replaced: int | None  # the version in force before, if any


async def company_named(session: AsyncSession, slug: str | None) -> Company:
    """The company `slug`, or without one the only company loaded."""
    query = select(Company).order_by(Company.slug)
    found = (await session.scalars(query.where(Company.slug == slug) if slug else query.limit(2))).all()
    if len(found) == 1:
        return found[0]
    loaded = await loaded_slugs(session)
    if not loaded:
        raise NotFound(f"no company is loaded: {LOAD_A_COMPANY}")
    named = f"no company with slug {slug!r} is loaded" if slug else "several companies are loaded"
    raise NotFound(f"{named}: pass --company with one of: {', '.join(loaded)}")


async def load_policy(session: AsyncSession, slug: str | None, path: Path, *, actor: str) -> LoadedPolicy:
    """Check the policy at `path` against the company and store it as its next version; `ImportFailed`
    with every problem (named by the file's name) when it cannot be, having written nothing."""
    company = await company_named(session, slug)
    policy = await _checked(session, company, path)
    current = await session.scalar(
        select(func.max(ExpensePolicyRow.version)).where(ExpensePolicyRow.company_id == company.id)
    )
    version = (current or 0) + 1
    document = policy.model_dump(mode="json", exclude_none=True)
    row = {"company_id": company.id, "version": version, "document": document, "created_at": utcnow()}
    await session.execute(insert(ExpensePolicyRow), [row])
    details = {"company": company.slug, "file": path.name, "version": version, "rules": len(policy.rules)}
    await changes.record(session, company.id, actor=actor, action=ACTION, details=[details])
    return LoadedPolicy(company.slug, version, len(policy.rules), current)


async def _checked(session: AsyncSession, company: Company, path: Path) -> ExpensePolicy:
    codes = set(await session.scalars(select(Category.code).where(Category.company_id == company.id)))
    rates = set(await session.scalars(select(FxRate.currency).where(FxRate.company_id == company.id)))
    problems = Problems()
    known = Known(company.currency, None, None, codes)
    read = partial(read_expense_policy_file, stored=True)
    policy = await asyncio.to_thread(read, path, path.name, known, rates, problems)
    if policy is None:
        raise ImportFailed(problems)
    return policy


async def policy_in_force(
    session: AsyncSession, slug: str | None
) -> tuple[str, tuple[int, ExpensePolicy] | None]:
    """The company's slug, and (version, policy) in force, if it has one."""
    company = await company_named(session, slug)
    return company.slug, await expense_policy_in_force(session, company.id)
