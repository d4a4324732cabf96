"""Training a company's categorizer from its books and storing it as a model version."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from server.audit import changes
from server.db.models import Company, ModelVersion
from server.errors import OutlayError
from tools.categorize import facts, learn, queries
from tools.categorize.books import mcc_categories
from tools.categorize.model import dump
from tools.categorize.pipeline import Thresholds

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("outlay.categorize")


@dataclass(frozen=True)
class History:
    """A company's categorized expenses as training examples, with what training needs besides."""

    examples: list[learn.Example]
    mcc_categories: dict[str, list[str]]
    settings: queries.Settings

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.settings.review_threshold, self.settings.auto_apply_threshold)

    @property
    def target_precision(self) -> float:
        return self.settings.target_precision


async def history(session: AsyncSession, company: Company) -> History:
    rows = await facts.training_history(session, company.id, learn.Settings().max_rows)
    parents = await facts.team_parents(session, company.id)
    examples = [
        learn.Example(
            facts.facts_of(r, company.currency, parents),
            r.category_code or "",
            r.spent_on,
            r.ref,
            r.corrected,
        )
        for r in rows
    ]
    del rows
    found = await queries.setup(session, company.id)
    return History(examples, mcc_categories(found.categories), found.settings)


class NothingToLearn(OutlayError):
    """No expense of the company has a category a person (or an imported rule) gave it."""


async def train_company(session: AsyncSession, company: Company, *, serve: bool, actor: str) -> ModelVersion:
    """Train on everything a human categorized, store the version (serving it with `serve`), audit it."""
    started = time.perf_counter()
    books = await history(session, company)
    if not books.examples:
        raise NothingToLearn(
            f"no expense of {company.slug} has a category yet: there is nothing to learn from"
        )
    trained = await anyio.to_thread.run_sync(
        lambda: learn.train(
            books.examples,
            books.mcc_categories,
            books.thresholds,
            books.target_precision,
            auto_apply_given=books.settings.auto_apply_given,
        )
    )
    blob = await anyio.to_thread.run_sync(dump, trained.artifact)
    metrics = {**trained.metrics, "seconds": round(time.perf_counter() - started, 2), "bytes": len(blob)}
    row = ModelVersion(
        company_id=company.id,
        trained_from=trained.trained_from,
        trained_until=trained.trained_until,
        rows=trained.rows,
        metrics=metrics,
        artifact=blob,
    )
    row = await queries.add_version(session, row, serve=serve)
    details = {"kind": queries.KIND, "version": row.version, "serving": serve, "rows": row.rows}
    await changes.record(session, company.id, actor=actor, action="train", details=[details])
    log.info(
        "trained the categorizer", extra={"company": company.slug, **details, "seconds": metrics["seconds"]}
    )
    return row
