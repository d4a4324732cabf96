"""Shared state kept in process: the embedded single-process default, and what a replica falls back to
for reads while Redis is away. Each replica counts only its own callers here."""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from server.shared.kinds import Reservation

_MAX_TRACKED = 10_000  # callers remembered at once; idle full buckets are forgotten beyond it


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`take(key)` spends one token: 0.0 when granted, else the seconds until one is there."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, _Bucket] = {}

    async def take(self, key: str) -> float:
        return self.take_now(key)

    def take_now(self, key: str) -> float:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_TRACKED:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]


@dataclass
class _Slots:
    semaphore: anyio.Semaphore
    users: int = 0


@dataclass
class CallerSlots:
    """At most `limit` requests in flight per key; `None` from `acquire` when no slot freed in time."""

    limit: int
    wait: float
    _slots: dict[str, _Slots] = field(default_factory=dict)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        slots = await self.acquire(key)
        if slots is None:
            yield False
            return
        try:
            yield True
        finally:
            self.release(key, slots)

    async def acquire(self, key: str) -> _Slots | None:
        slots = self._slots.get(key)
        if slots is None:
            slots = self._slots[key] = _Slots(anyio.Semaphore(self.limit))
        slots.users += 1
        with anyio.move_on_after(self.wait):
            await slots.semaphore.acquire()
            return slots
        self._done(key, slots)
        return None

    def release(self, key: str, slots: _Slots) -> None:
        slots.semaphore.release()
        self._done(key, slots)

    def _done(self, key: str, slots: _Slots) -> None:
        slots.users -= 1
        if slots.users == 0:
            del self._slots[key]


class MemoryBudget:
    """Tokens used per company per UTC day, counted when a response arrives. Nothing is set aside: calls
    in flight at once may each pass the check, so a burst can overshoot by what it had in flight."""

    def __init__(self, limit: int | None, today: Callable[[], dt.date] = utc_today) -> None:
        self.limit = limit
        self._today = today
        self._used: dict[tuple[str, dt.date], int] = {}

    async def reserve(self, company: str, tokens: int) -> Reservation | None:
        if self.limit is not None and self.used_now(company) >= self.limit:
            return None
        return Reservation(company, self._today(), 0)

    async def settle(self, reservation: Reservation, used: int) -> None:
        self.spend(reservation.company, used)

    async def used(self, company: str) -> int:
        return self.used_now(company)

    def used_now(self, company: str) -> int:
        return self._used.get((company, self._today()), 0)

    def spend(self, company: str, tokens: int) -> None:
        today = self._today()
        if any(day != today for _, day in self._used):  # a new day: yesterday's counts are history
            self._used = {key: n for key, n in self._used.items() if key[1] == today}
        self._used[company, today] = self._used.get((company, today), 0) + tokens


class ResponseCache:
    """JSON-shaped answers by key (the key names the company), kept for a TTL, least recently used
    evicted first; a TTL of 0 turns it off."""

    def __init__(self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._max, self._clock = ttl, max_entries, clock
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    async def get(self, company: str, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def put(self, company: str, key: str, value: dict[str, Any]) -> None:
        if self._ttl <= 0:
            return
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
