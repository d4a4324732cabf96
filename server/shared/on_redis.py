"""Shared state on Redis: every replica counts the same callers, budgets and answers.

Each check-and-change is one Lua script, so Redis runs it atomically whatever the number of replicas;
times come from Redis (`TIME`), so replicas whose clocks disagree still agree on a bucket. A command
that fails or takes longer than `OUTLAY_REDIS_TIMEOUT_SECONDS` raises `SharedStateUnavailable`
(through `Reachability`), and each kind decides what that means (`docs/operations.md`, "Shared state"):
the limits fall back to this process's own counts, the cache misses, the budget refuses the LLM call.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from server.settings import Settings
from server.shared.kinds import CallerLimits, Reservation, SharedStateUnavailable
from server.shared.memory import CallerSlots, TokenBuckets
from server.shared.state import SharedState, buckets, slots

T = TypeVar("T")
log = logging.getLogger("outlay.shared")
_meter = metrics.get_meter("outlay.shared")
_fallbacks = _meter.create_counter(
    "outlay.shared_state.fallbacks",
    "{operation}",
    "Operations that found Redis away, by operation (rate, slots, budget, cache, ping)",
)

# One token per request; the bucket refills at ARGV[1] per second up to ARGV[2]. Returns the seconds to
# wait (as a string: Lua numbers come back from Redis as integers), "0" when the token was granted.
TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""

# A slot is a lease: a member of the caller's sorted set scored by when it expires. Expired leases (a
# replica that died holding them) are dropped before counting. ARGV: limit, lease ms, lease id.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""

# Extends the leases still held (ARGV[2..]) by ARGV[1] ms; a lease already dropped is not revived.
RENEW = """
local t = redis.call('TIME')
local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', until_ms, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""

# Sets ARGV[2] tokens aside unless today's count (reservations included) has reached ARGV[1].
RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""
_BUDGET_SECONDS = 2 * 86_400  # a day's count outlives its day, for a request settled after midnight
_watched: weakref.WeakSet[Reachability] = weakref.WeakSet()


def _observe(_: CallbackOptions) -> Iterable[Observation]:
    return [Observation(0 if reach.up is False else 1, {"backend": "redis"}) for reach in _watched]


_meter.create_observable_gauge(
    "outlay.shared_state.up", [_observe], "{state}", "Redis (OUTLAY_REDIS_URL) answers: 1, or not: 0"
)


class Reachability:
    """Whether Redis answered lately: for /readyz, the `outlay.shared_state.up` gauge and the write
    guard. After a failure no command is sent for `pause` seconds (each request would otherwise wait the
    timeout); then the next one tries again."""

    def __init__(self, pause: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.up: bool | None = None  # None: not tried yet
        self._pause, self._clock = pause, clock
        self._quiet_until = 0.0
        _watched.add(self)

    async def run(self, operation: str, command: Callable[[], Awaitable[T]]) -> T:
        if self._clock() < self._quiet_until:
            _fallbacks.add(1, {"operation": operation})
            raise SharedStateUnavailable("Redis did not answer a moment ago")
        try:
            result = await command()
        except (RedisError, OSError) as exc:
            self.failed(operation, exc)
            raise SharedStateUnavailable(f"Redis did not answer: {type(exc).__name__}") from exc
        self.up = True
        return result

    def failed(self, operation: str, exc: BaseException) -> None:
        if self.up is not False:
            log.warning("Redis unreachable: shared limits fall back", extra={"error": type(exc).__name__})
        self.up = False
        self._quiet_until = self._clock() + self._pause
        _fallbacks.add(1, {"operation": operation})


class RedisRate:
    """Token buckets on Redis; while it is away, this process's own buckets."""

    def __init__(self, redis: Redis, prefix: str, reach: Reachability, local: TokenBuckets) -> None:
        self._take = redis.register_script(TAKE)
        self._prefix, self._reach, self._local = prefix, reach, local

    async def take(self, key: str) -> float:
        keys, args = [f"{self._prefix}:rate:{key}"], [self._local.rate, self._local.burst]
        try:
            wait = await self._reach.run("rate", lambda: self._take(keys=keys, args=args))
        except SharedStateUnavailable:
            return self._local.take_now(key)
        return float(wait)


class RedisSlots:
    """Concurrency slots as leases on Redis; while it is away, this process's own slots. A slot whose
    replica died frees itself when its lease expires (`lease_seconds`); `keep_leases` renews the leases
    this process holds a third of that often."""

    def __init__(
        self, redis: Redis, prefix: str, reach: Reachability, local: CallerSlots, lease_seconds: float
    ) -> None:
        self._acquire, self._renew = redis.register_script(ACQUIRE), redis.register_script(RENEW)
        self._redis, self._prefix, self._reach, self._local = redis, prefix, reach, local
        self.lease_ms = int(lease_seconds * 1000)
        self._held: defaultdict[str, set[str]] = defaultdict(set)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        slot, lease = f"{self._prefix}:slots:{key}", uuid.uuid4().hex
        try:
            held = await self._wait_for(slot, lease)
        except SharedStateUnavailable:
            async with self._local.hold(key) as local:
                yield local
            return
        if not held:
            yield False
            return
        self._held[slot].add(lease)
        try:
            yield True
        finally:
            self._forget(slot, lease)
            with anyio.CancelScope(shield=True):
                await self._release(slot, lease)

    async def _wait_for(self, slot: str, lease: str) -> bool:
        args: list[int | str] = [self._local.limit, self.lease_ms, lease]
        deadline, pause = anyio.current_time() + self._local.wait, 0.005
        while True:
            if await self._reach.run("slots", lambda: self._acquire(keys=[slot], args=args)):
                return True
            if anyio.current_time() + pause > deadline:
                return False
            await anyio.sleep(pause)  # polled, not notified: a freed slot is found within 0.1 s
            pause = min(pause * 2, 0.1)

    async def _release(self, slot: str, lease: str) -> None:
        with suppress(SharedStateUnavailable):  # if not, the lease expires by itself
            await self._reach.run("slots", lambda: self._redis.zrem(slot, lease))

    def _forget(self, slot: str, lease: str) -> None:
        self._held[slot].discard(lease)
        if not self._held[slot]:
            del self._held[slot]

    async def keep_leases(self) -> None:
        """Runs for the process's lifetime: renews every lease held, a third of a lease apart."""
        while True:
            await anyio.sleep(self.lease_ms / 3000)
            with suppress(SharedStateUnavailable):  # if not, they expire: other replicas may use them
                for slot, leases in list(self._held.items()):
                    await self._renew_leases(slot, [self.lease_ms, *leases])

    async def _renew_leases(self, slot: str, args: list[int | str]) -> None:
        await self._reach.run("slots", lambda: self._renew(keys=[slot], args=args))


class RedisBudget:
    """Today's LLM tokens per company on Redis: set aside before each request (`reserve`, refused once
    the count, reservations included, has reached the limit), replaced by what it used after (`settle`).
    While Redis is away `reserve` raises `SharedStateUnavailable`: no LLM call is paid blind."""

    def __init__(
        self, redis: Redis, prefix: str, reach: Reachability, limit: int | None, today: Callable[[], dt.date]
    ) -> None:
        self._reserve = redis.register_script(RESERVE)
        self._redis, self._prefix, self._reach = redis, prefix, reach
        self.limit, self._today = limit, today

    def _key(self, company: str, day: dt.date) -> str:
        return f"{self._prefix}:budget:{day.isoformat()}:{company}"

    async def reserve(self, company: str, tokens: int) -> Reservation | None:
        day = self._today()
        if self.limit is None:
            return Reservation(company, day, 0)
        keys, args = [self._key(company, day)], [self.limit, tokens, _BUDGET_SECONDS]
        granted = await self._reach.run("budget", lambda: self._reserve(keys=keys, args=args))
        return Reservation(company, day, tokens) if granted else None

    async def settle(self, reservation: Reservation, used: int) -> None:
        if self.limit is None or used == reservation.tokens:
            return
        key = self._key(reservation.company, reservation.day)
        try:
            await self._reach.run("budget", lambda: self._redis.incrby(key, used - reservation.tokens))
        except SharedStateUnavailable:  # the reservation stays counted: the budget errs on the safe side
            log.warning("LLM tokens not settled on Redis", extra={"company": reservation.company})

    async def used(self, company: str) -> int:
        value = await self._reach.run("budget", lambda: self._redis.get(self._key(company, self._today())))
        return int(value or 0)


class RedisCache:
    """LLM answers on Redis under `<prefix>:cache:<company>:<key>`, expiring after the TTL; while Redis
    is away every question misses (and is paid for: the budget still counts it)."""

    def __init__(self, redis: Redis, prefix: str, reach: Reachability, ttl: float) -> None:
        self._redis, self._prefix, self._reach = redis, prefix, reach
        self._ttl_ms = int(ttl * 1000)

    async def get(self, company: str, key: str) -> dict[str, Any] | None:
        if self._ttl_ms <= 0:
            return None
        try:
            found = await self._reach.run("cache", lambda: self._redis.get(self._name(company, key)))
        except SharedStateUnavailable:
            return None
        return None if found is None else dict(json.loads(found))

    async def put(self, company: str, key: str, value: dict[str, Any]) -> None:
        if self._ttl_ms <= 0:
            return
        name, text = self._name(company, key), json.dumps(value)
        with suppress(SharedStateUnavailable):
            await self._reach.run("cache", lambda: self._redis.set(name, text, px=self._ttl_ms))

    def _name(self, company: str, key: str) -> str:
        return f"{self._prefix}:cache:{company}:{key}"


@dataclass(frozen=True)
class OnRedis:
    """The shared state on one Redis client, and the task that renews its slots' leases (if any)."""

    state: SharedState
    renew: Callable[[], Coroutine[Any, Any, None]] | None


def connect(settings: Settings) -> Redis:
    """A client that waits at most the timeout for anything, and never retries: a failure is a
    fallback now, not a slower answer later."""
    assert settings.redis_url is not None
    seconds = settings.redis_timeout_seconds
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=seconds,
        socket_connect_timeout=seconds,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
        health_check_interval=0,
    )


def on_redis(settings: Settings, redis: Redis, today: Callable[[], dt.date], lease_seconds: float) -> OnRedis:
    prefix, reach, gateway = settings.redis_prefix, Reachability(), settings.gateway
    local_rate, local_slots = buckets(settings), slots(settings)
    rate = None if local_rate is None else RedisRate(redis, prefix, reach, local_rate)
    held = None if local_slots is None else RedisSlots(redis, prefix, reach, local_slots, lease_seconds)
    state = SharedState(
        "redis",
        CallerLimits(rate, held),
        RedisBudget(redis, prefix, reach, gateway.daily_token_budget, today),
        RedisCache(redis, prefix, reach, gateway.cache_ttl_seconds),
        reach,
        redis,
    )
    return OnRedis(state, None if held is None else held.keep_leases)
