"""What one categorize call knows about the caller's company (categories, rules, thresholds, the
serving model, decoded once per process), and an expense's facts as the stages read them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from server.kit.money import currency_exponent
from tools.categorize import pipeline, queries
from tools.categorize.features import ExpenseFacts
from tools.categorize.model import Artifact, load
from tools.categorize.schemas import Thresholds

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import AppContext, Caller


@dataclass(frozen=True)
class Books:
    """What one call knows about the caller's company: categories, rules, thresholds, model."""

    categories: dict[str, queries.CategoryRow]
    company: pipeline.Company
    version: queries.ServingVersion | None
    artifact: Artifact | None

    @property
    def thresholds(self) -> Thresholds:
        t = self.company.thresholds
        return Thresholds(review=t.review, auto_apply=t.auto_apply)


async def open_books(app: AppContext, session: AsyncSession, caller: Caller) -> Books:
    found = await queries.setup(session, caller.company_id)
    categories = {c.code: c for c in found.categories}
    settings = found.settings
    company = pipeline.Company(
        codes=frozenset(categories),
        rules=found.rules,
        mcc_categories=mcc_categories(found.categories),
        thresholds=pipeline.Thresholds(settings.review_threshold, settings.auto_apply_threshold),
    )
    return Books(categories, company, found.serving, await _artifact(app, session, found.serving))


def mcc_categories(categories: Sequence[queries.CategoryRow]) -> dict[str, list[str]]:
    """MCC -> the codes of the categories that list it."""
    found: dict[str, list[str]] = {}
    for category in categories:
        for mcc in category.mcc_codes:
            found.setdefault(mcc, []).append(category.code)
    return found


async def _artifact(
    app: AppContext, session: AsyncSession, version: queries.ServingVersion | None
) -> Artifact | None:
    if version is None:
        return None
    cached = app.models.get(version.id)
    if isinstance(cached, Artifact):
        return cached
    blob = await queries.artifact(session, version.id)
    if blob is None:
        return None
    artifact = await anyio.to_thread.run_sync(load, blob)
    app.models.put(version.id, artifact)
    return artifact


def facts_of(row: queries.ExpenseFactsRow, currency: str) -> ExpenseFacts:
    return ExpenseFacts(
        descriptor=row.descriptor,
        merchant=row.merchant,
        mcc=row.mcc,
        memo=row.memo,
        amount=major(row.amount_company_minor, currency),
        team=row.team,
    )


def major(minor: int, currency: str) -> float:
    """Company-currency amount in major units: what the amount bands are measured in."""
    return minor / 10.0 ** currency_exponent(currency)


def minor(amount: float, currency: str) -> int:
    return round(amount * 10.0 ** currency_exponent(currency))
