"""The interfaces of shared state, each with an in-process and a Redis implementation.

SharedStateUnavailable   the shared store did not answer: the caller falls back (reads), or refuses
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol


class SharedStateUnavailable(Exception):
    """The shared store (Redis) did not answer in time, or refused the connection."""


class RateLimit(Protocol):
    """A token bucket per key."""

    async def take(self, key: str) -> float:
        """Spend one token: 0.0 when granted, else the seconds until one is there."""
        ...


class Slots(Protocol):
    """At most a few requests in flight per key; a request waits a while for one of them."""

    def hold(self, key: str) -> AbstractAsyncContextManager[bool]:
        """True inside while a slot is held (released on exit); False when none freed in time."""
        ...


@dataclass(frozen=True)
class Reservation:
    """Tokens set aside for one request to the LLM, on the day (UTC) they count for."""

    company: str
    day: dt.date
    tokens: int


class TokenBudget(Protocol):
    """LLM tokens per company per UTC day, against one daily limit (None: no limit)."""

    limit: int | None

    async def reserve(self, company: str, tokens: int) -> Reservation | None:
        """Set `tokens` aside before a request; None when the company's budget is used up."""
        ...

    async def settle(self, reservation: Reservation, used: int) -> None:
        """After the request: count what it `used` instead of what was set aside."""
        ...

    async def used(self, company: str) -> int:
        """Today's count, reservations included."""
        ...


class AnswerCache(Protocol):
    """JSON-shaped LLM answers by key, kept for a TTL; the key already names the company."""

    async def get(self, company: str, key: str) -> dict[str, Any] | None: ...

    async def put(self, company: str, key: str, value: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class CallerLimits:
    """What `server.http.limits.LimitsMiddleware` counts per caller; None: that limit is off."""

    rate: RateLimit | None
    slots: Slots | None
