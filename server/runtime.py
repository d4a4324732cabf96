"""Opens and closes what lives as long as the server: engine, sessions, clock, model gateway, keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from server.context import AppContext, Clock
from server.db.engine import create_engine, create_session_factory
from server.db.migrate import pending_migration_message
from server.db.tenancy import tenant_role_problem
from server.gateway import ModelGateway
from server.settings import Settings


class SchemaNotReady(RuntimeError):
    """The database is missing migrations; the message says which command to run."""


async def ensure_schema(engine: AsyncEngine) -> None:
    if problem := await pending_migration_message(engine):
        raise SchemaNotReady(problem)


async def check_schema(database_url: str) -> None:
    """For commands that must refuse an un-migrated database before doing anything else."""
    engine = create_engine(database_url)
    try:
        await ensure_schema(engine)
    finally:
        await engine.dispose()


class Runtime:
    """Owns the application context for one server object.

    The MCP lifespan opens it; plain HTTP routes (`/readyz`) read `current` once it is open.
    """

    def __init__(self, settings: Settings, *, local_company: str | None) -> None:
        self.settings = settings
        self.local_company = local_company
        self.current: AppContext | None = None

    @asynccontextmanager
    async def open(self) -> AsyncIterator[AppContext]:
        engine = create_engine(self.settings.database_url)
        try:
            await ensure_schema(engine)
            if problem := await tenant_role_problem(engine, self.settings.tenant_role):
                raise SchemaNotReady(problem)
            gateway = ModelGateway(self.settings.gateway)
            try:
                self.current = AppContext(
                    settings=self.settings,
                    engine=engine,
                    sessions=create_session_factory(engine),
                    clock=Clock(self.settings.today),
                    gateway=gateway,
                    local_company=self.local_company,
                )
                yield self.current
            finally:
                self.current = None
                await gateway.aclose()
        finally:
            await engine.dispose()
