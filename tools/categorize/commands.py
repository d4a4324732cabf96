"""The categorizer's command-line side: `outlay train`, `outlay model list|use|serve`, and training after
`outlay import` when a company has no model yet. `server/cli.py` parses the arguments; these do the
work and return an exit code."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select

from server.db.models import Company
from server.db.tenancy import LOAD_A_COMPANY, loaded_slugs
from server.runtime import Runtime
from tools.categorize import queries, training

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from server.settings import Settings

EXIT_FAILED = 1


class CommandFailed(Exception):
    """What to tell the operator; the command exits with status 1."""


async def company_named(session: AsyncSession, slug: str | None) -> Company:
    """The company `slug`, or the only one loaded."""
    query = select(Company).order_by(Company.slug)
    found = list((await session.scalars(query.where(Company.slug == slug) if slug else query.limit(2))).all())
    if len(found) == 1:
        return found[0]
    loaded = await loaded_slugs(session)
    if not loaded:
        raise CommandFailed(f"no company is loaded: {LOAD_A_COMPANY}")
    named = f"no company with slug {slug!r} is loaded" if slug else "several companies are loaded"
    raise CommandFailed(f"{named}: pass --company with one of: {', '.join(loaded)}")


async def train(settings: Settings, slug: str | None, *, serve: bool) -> int:
    async with _sessions(settings) as sessions, sessions() as session, session.begin():
        company = await company_named(session, slug)
        row = await training.train_company(session, company, serve=serve, actor="cli")
    print(_describe(company.slug, row.version, row.rows, row.metrics, serving=serve), file=sys.stderr)
    return 0


async def train_if_missing(sessions: async_sessionmaker[AsyncSession], slug: str) -> str | None:
    """After an import: train (and serve) a first model when the company has none; a line to print."""
    async with sessions() as session, session.begin():
        company = await company_named(session, slug)
        if await queries.versions(session, company.id):
            return None
        try:
            row = await training.train_company(session, company, serve=True, actor="import")
        except training.NothingToLearn as exc:
            return (
                f"{exc}; the categorizer answers from MCCs only until some are categorized (`outlay train`)."
            )
    return _describe(company.slug, row.version, row.rows, row.metrics, serving=True)


async def list_versions(settings: Settings, slug: str | None) -> int:
    async with _sessions(settings) as sessions, sessions() as session:
        company = await company_named(session, slug)
        rows = await queries.versions(session, company.id)
    if not rows:
        print(f"{company.slug} has no categorizer model yet: run `outlay train`.", file=sys.stderr)
    for row in rows:
        holdout = row.metrics.get("holdout", {})
        accuracy = f"{holdout['accuracy']:.1%}" if "accuracy" in holdout else "-"
        window = f"{row.trained_from} .. {row.trained_until}"
        mark = "*" if row.serving else " "
        created = f"{row.created_at:%Y-%m-%d %H:%M}"
        print(
            f"{mark} v{row.version}  {row.rows:>8,} expenses  {window}  "
            f"holdout accuracy {accuracy}  {created}"
        )
    return 0


async def use_version(settings: Settings, slug: str | None, version: int) -> int:
    async with _sessions(settings) as sessions, sessions() as session, session.begin():
        company = await company_named(session, slug)
        if not await queries.set_serving(session, company.id, version):
            raise CommandFailed(
                f"{company.slug} has no categorizer version {version}; `outlay model list` lists them"
            )
    print(f"{company.slug}: categorizer v{version} is now serving.", file=sys.stderr)
    return 0


async def serve_models(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from tools.categorize.serving import serving_app

    async with _sessions(settings) as sessions:
        config = uvicorn.Config(
            serving_app(sessions), host=host, port=port, log_config=None, access_log=False
        )
        print(
            f"Serving categorizer models (Open Inference Protocol) on http://{host}:{port}/v2",
            file=sys.stderr,
        )
        await uvicorn.Server(config).serve()
    return 0


def _describe(slug: str, version: int, rows: int, metrics: dict[str, object], *, serving: bool) -> str:
    holdout = metrics.get("holdout")
    scored = ""
    if isinstance(holdout, dict):
        scored = f"; holdout accuracy {holdout['accuracy']:.1%}, ECE {holdout['ece']:.3f}"
    state = "serving" if serving else "not serving (`outlay model use` to serve it)"
    seconds = metrics.get("seconds")
    return f"{slug}: trained categorizer v{version} on {rows:,} expenses in {seconds} s{scored}; {state}."


@asynccontextmanager
async def _sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a migrated database (else `SchemaNotReady`, which says what to run), for one command."""
    async with Runtime(settings, local_company=None).open() as app:
        yield app.sessions
