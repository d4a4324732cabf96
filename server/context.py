"""The application context every handler receives from the lifespan, and who is calling."""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.gateway import ModelGateway
from server.settings import Settings
from server.shared.state import SharedState
from server.telemetry.names import CallNames


class Clock:
    """'Today' for business logic: pinned by settings for deterministic demos and evals."""

    def __init__(self, pinned: dt.date | None = None) -> None:
        self._pinned = pinned

    def today(self) -> dt.date:
        return self._pinned or dt.datetime.now(dt.UTC).date()


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
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    gateway: ModelGateway
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
