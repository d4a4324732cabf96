"""The application context every handler receives from the lifespan, and who is calling."""

from __future__ import annotations

import datetime as dt
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
