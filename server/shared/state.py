"""Chooses where shared state lives, once, at start-up: in process without `OUTLAY_REDIS_URL` (one
replica), on Redis with it (several)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio

from server.settings import Settings
from server.shared.kinds import AnswerCache, CallerLimits, SharedStateUnavailable, TokenBudget
from server.shared.memory import CallerSlots, MemoryBudget, ResponseCache, TokenBuckets, utc_today

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from server.shared.on_redis import Reachability

log = logging.getLogger("outlay.shared")
LEASE_SECONDS = 30.0  # a slot held by a replica that died is free again after this


@dataclass
class SharedState:
    """What the limits, the gateway and /readyz use; `reach` is None in process (always there)."""

    backend: Literal["memory", "redis"]
    limits: CallerLimits
    budget: TokenBudget
    cache: AnswerCache
    reach: Reachability | None = None
    redis: Redis | None = None

    async def writable(self) -> bool:
        """Whether a write may go ahead: always in process; on Redis, when it answered the last command
        (the request's own rate check, usually), or answers a PING now."""
        if self.redis is None or self.reach is None or self.reach.up:
            return True
        return await self.ping()

    async def ping(self) -> bool:
        if self.redis is None or self.reach is None:
            return True
        redis = self.redis
        with suppress(SharedStateUnavailable):  # Reachability notes it (within its quiet second: no PING)
            await self.reach.run("ping", lambda: redis.ping())
        return self.reach.up is True

    async def status(self) -> dict[str, str]:
        """For /readyz: where the state lives, whether it answers now, and whether writes are taken."""
        up = await self.ping()
        status = "ok" if up else "unreachable"
        return {"backend": self.backend, "status": status, "writes": "accepted" if up else "refused"}


def in_process(settings: Settings, today: Callable[[], dt.date] = utc_today) -> SharedState:
    gateway = settings.gateway
    return SharedState(
        "memory",
        CallerLimits(buckets(settings), slots(settings)),
        MemoryBudget(gateway.daily_token_budget, today),
        ResponseCache(gateway.cache_ttl_seconds, gateway.cache_max_entries),
    )


def buckets(settings: Settings) -> TokenBuckets | None:
    limits = settings.rate_limit
    return TokenBuckets(limits.requests_per_second, limits.burst) if limits.requests_per_second > 0 else None


def slots(settings: Settings) -> CallerSlots | None:
    limits = settings.rate_limit
    return CallerSlots(limits.concurrency, limits.queue_seconds) if limits.concurrency else None


@asynccontextmanager
async def open_shared_state(
    settings: Settings, today: Callable[[], dt.date] = utc_today, lease_seconds: float = LEASE_SECONDS
) -> AsyncIterator[SharedState]:
    """The process's shared state, for as long as it serves. With Redis, the client is made here (it
    connects on first use: a replica starts, and serves reads, while Redis is away) and the slots'
    leases are renewed in the background."""
    if settings.redis_url is None:
        yield in_process(settings, today)
        return
    from server.shared.on_redis import connect, on_redis  # redis loads only when it is configured

    redis = connect(settings)
    try:
        shared = on_redis(settings, redis, today, lease_seconds)
        async with anyio.create_task_group() as tasks:
            if shared.renew is not None:
                tasks.start_soon(shared.renew)
            try:
                yield shared.state
            finally:
                tasks.cancel_scope.cancel()
    finally:
        await redis.aclose()
