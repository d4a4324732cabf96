"""What one categorize call knows about the caller's company (categories, rules, thresholds, team tree,
the serving model, decoded once per process)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from tools.categorize import facts, pipeline, queries
from tools.categorize.model import Artifact, load
from tools.categorize.schemas import Thresholds

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import AppContext, Caller

log = logging.getLogger("outlay.categorize")


@dataclass(frozen=True)
class Books:
    """What one call knows about the caller's company: categories, rules, thresholds, teams, model."""

    categories: dict[str, queries.CategoryRow]
    company: pipeline.Company
    version: queries.ServingVersion | None
    artifact: Artifact | None
    parents: facts.Parents

    @property
    def thresholds(self) -> Thresholds:
        t = self.company.thresholds
        return Thresholds(review=t.review, auto_apply=t.auto_apply)


async def open_books(app: AppContext, session: AsyncSession, caller: Caller) -> Books:
    found = await queries.setup(session, caller.company_id)
    categories = {c.code: c for c in found.categories}
    artifact = await _artifact(app, session, found.serving)
    settings = found.settings
    company = pipeline.Company(
        codes=frozenset(categories),
        rules=found.rules,
        mcc_categories=mcc_categories(found.categories),
        thresholds=pipeline.Thresholds(settings.review_threshold, auto_apply_threshold(settings, artifact)),
    )
    parents = await facts.team_parents(session, caller.company_id)
    return Books(categories, company, found.serving, artifact, parents)


def auto_apply_threshold(settings: queries.Settings, artifact: Artifact | None) -> float:
    """The company's own threshold when it set one; else the one its serving model chose for its target
    precision (never below the review threshold); before any model, the stored default."""
    given = pipeline.Thresholds(settings.review_threshold, settings.auto_apply_threshold)
    if settings.auto_apply_given or artifact is None or not artifact.fitted:
        return given.auto_apply
    return given.with_model(artifact.auto_apply).auto_apply


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
    try:
        artifact = await anyio.to_thread.run_sync(load, blob)
    except ValueError as exc:  # a version an older release trained: answer without it until retrained
        log.warning("categorizer model not loaded", extra={"version": version.version, "error": str(exc)})
        return None
    app.models.put(version.id, artifact)
    return artifact
