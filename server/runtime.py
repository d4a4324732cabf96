"""Opens and closes what lives as long as the server: engine, sessions, clock, model gateway, keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server.context import AppContext, Clock, Database, LazyGateway, RecentlyUsed
from server.db.readiness import SchemaNotReady, check_serving
from server.settings import Settings
from server.shared.state import open_shared_state
from server.telemetry.names import CallNames

__all__ = ["Runtime", "SchemaNotReady"]


class Runtime:
    """Owns the application context for one server object.

    The MCP lifespan opens it; plain HTTP routes (`/readyz`) read `current` once it is open. It checks
    that the database can serve unless `checked` says the caller has (`outlay serve`, before it answers
    anything); the engine is made when the first call needs it (`server.context.Database`).
    """

    def __init__(self, settings: Settings, *, local_company: str | None, checked: bool = False) -> None:
        self.settings = settings
        self.local_company = local_company
        self.checked = checked
        self.current: AppContext | None = None

    @asynccontextmanager
    async def open(self, *, call_names: CallNames | None = None) -> AsyncIterator[AppContext]:
        if not self.checked:
            await check_serving(self.settings.database_url, self.settings.tenant_role)
        database = Database(self.settings.database_url)
        try:
            async with open_shared_state(self.settings) as shared:
                gateway = LazyGateway(self.settings, shared)
                try:
                    self.current = AppContext(
                        settings=self.settings,
                        database=database,
                        clock=Clock(self.settings.today),
                        models_gateway=gateway,
                        shared=shared,
                        local_company=self.local_company,
                        call_names=call_names or CallNames(),
                        reviews=RecentlyUsed(capacity=self.settings.review_cache_entries, max_age=300.0),
                    )
                    yield self.current
                finally:
                    self.current = None
                    await gateway.aclose()
        finally:
            await database.dispose()
