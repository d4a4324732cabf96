"""The application context every handler receives from the lifespan, and who is calling."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.gateway import ModelGateway
from server.settings import Settings


class Clock:
    """'Today' for business logic: pinned by settings for deterministic demos and evals."""

    def __init__(self, pinned: dt.date | None = None) -> None:
        self._pinned = pinned

    def today(self) -> dt.date:
        return self._pinned or dt.datetime.now(dt.UTC).date()


class LoadedModels:
    """Model artifacts decoded from `model_versions`, by row id (a row never changes once written):
    decoding costs milliseconds, a call should cost microseconds. The least recently used goes first."""

    def __init__(self, capacity: int = 32) -> None:
        self._capacity = capacity
        self._loaded: OrderedDict[int, object] = OrderedDict()

    def get(self, version_id: int) -> object | None:
        found = self._loaded.get(version_id)
        if found is not None:
            self._loaded.move_to_end(version_id)
        return found

    def put(self, version_id: int, model: object) -> None:
        self._loaded[version_id] = model
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


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    gateway: ModelGateway
    # Served to callers without a token (stdio, in-memory). None over HTTP: there a token is required.
    local_company: str | None
    api_key_companies: dict[str, str] = field(default_factory=dict)
    models: LoadedModels = field(default_factory=LoadedModels)
