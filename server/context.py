"""The application context every handler receives from the lifespan, and who is calling."""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server.settings import Settings
from server.shared.state import SharedState
from server.telemetry.names import CallNames

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from server.gateway import ModelGateway


class Clock:
    """'Today' for business logic: pinned by settings for deterministic demos and evals."""

    def __init__(self, pinned: dt.date | None = None) -> None:
        self._pinned = pinned

    def today(self) -> dt.date:
        return self._pinned or dt.datetime.now(dt.UTC).date()


class Database:
    """The engine and its session factory, made when something first needs them (the first call): importing
    SQLAlchemy, its asyncpg dialect and the ORM models costs ~0.35 s of CPU, which a client waiting for
    `tools/list` at start-up should not pay. Nothing connects before the first statement either way."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            from server.db.engine import create_engine

            self._engine = create_engine(self.url)
        return self._engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            from server.db.engine import create_session_factory

            self._sessions = create_session_factory(self.engine)
        return self._sessions

    @property
    def opened(self) -> AsyncEngine | None:
        """The engine if something made it already, else None (for a shutdown or a pool gauge)."""
        return self._engine

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()


class LazyGateway:
    """The model gateway, made when a call first needs a model (categorize, review): its clients, retry
    policies and meters cost ~0.03 s of CPU to import, which start-up should not pay either."""

    def __init__(self, settings: Settings, shared: SharedState) -> None:
        self._settings = settings
        self._shared = shared
        self._gateway: ModelGateway | None = None

    def get(self) -> ModelGateway:
        if self._gateway is None:
            from server.gateway import ModelGateway

            shared = self._shared
            self._gateway = ModelGateway(self._settings.gateway, budget=shared.budget, cache=shared.cache)
        return self._gateway

    async def aclose(self) -> None:
        if self._gateway is not None:
            await self._gateway.aclose()


class RecentlyUsed:
    """A bounded cache on the lifespan context, the least recently used first to go: decoded model
    artifacts by `model_versions` row id (a row never changes once written: decoding costs milliseconds,
    a call should cost microseconds) and, with `max_age`, what a capability derives from a company's
    data (forecast calibrations, review findings), which goes stale as the data changes."""

    def __init__(self, capacity: int = 32, max_age: float | None = None) -> None:
        self._capacity = capacity
        self._max_age = max_age
        self._loaded: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()

    def get(self, key: Hashable) -> object | None:
        found = self._loaded.get(key)
        if found is None:
            return None
        if self._max_age is not None and time.monotonic() - found[0] > self._max_age:
            del self._loaded[key]
            return None
        self._loaded.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, model: object) -> None:
        self._loaded[key] = (time.monotonic(), model)
        self._loaded.move_to_end(key)
        if len(self._loaded) > self._capacity:
            self._loaded.popitem(last=False)


@dataclass(frozen=True)
class Caller:
    """The authenticated principal: every query is scoped to `company_id`."""

    company_id: int
    company_slug: str
    company_name: str
    currency: str
    subject: str
    # The person behind the call, as an e-mail the token (claim `user`) or OUTLAY_USER gives; None for
    # a token without a user (a service): it may read and suggest, never decide. Not yet checked against
    # the company's employees: whoever acts on it resolves it (and refuses a stranger).
    user: str | None = None


@dataclass
class AppContext:
    settings: Settings
    database: Database
    clock: Clock
    models_gateway: LazyGateway
    # Limits, token budget and answer cache: in process, or on Redis for every replica.
    shared: SharedState
    # Served to callers without a token (stdio, in-memory). None over HTTP: there a token is required.
    local_company: str | None
    models: RecentlyUsed = field(default_factory=RecentlyUsed)
    # Derived from a company's data, recomputed after a while so that new expenses count.
    derived: RecentlyUsed = field(default_factory=lambda: RecentlyUsed(capacity=64, max_age=900.0))
    # Recent reviews' findings (review_expenses), so that a review's later pages are a lookup: keyed by
    # company and the company's data version (docs/review.md#findings-cache). Capacity 0 turns it off.
    reviews: RecentlyUsed = field(default_factory=lambda: RecentlyUsed(capacity=8, max_age=300.0))
    # What a call's metric labels may name (the server's registered capabilities); unknown names
    # are labelled `unknown`.
    call_names: CallNames = field(default_factory=CallNames)

    @property
    def engine(self) -> AsyncEngine:
        return self.database.engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.database.sessions

    @property
    def gateway(self) -> ModelGateway:
        return self.models_gateway.get()
