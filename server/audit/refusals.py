"""Requests the abuse limits refuse (server/http/limits.py), in the trail without one insert per refused
request: a flood is exactly what the limits refuse, and a row each would turn it into database writes.

They are counted in memory per minute, caller and limit, and each count becomes one `audit_events` row
(kind `limit`, name the limit, outcome `refused`, `count` the refusals, `at` the minute's start) once its
minute has closed; what is still counted when the server stops is written then.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.audit.trail import append, arguments_digest, storable

MINUTE = 60
# Distinct (caller, limit) pairs counted per minute; past it, refusals of new callers (a flood from many
# addresses) are counted under one `overflow` subject, so memory and rows stay bounded.
MAX_COUNTED = 10_000
OVERFLOW = "overflow"
_NO_ARGUMENTS = arguments_digest({})


@dataclass(frozen=True)
class Refusal:
    minute: int  # minutes since the epoch, UTC
    subject: str
    company: str | None
    limit: str  # rate, concurrency, body_size, connections


class RefusalTally:
    """Refusals counted per minute, caller and limit, until `closed()` or `remaining()` takes them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._counts: Counter[Refusal] = Counter()

    def count(self, subject: str, company: str | None, limit: str) -> None:
        refusal = Refusal(self.minute(), subject, company, limit)
        if refusal not in self._counts and len(self._counts) >= MAX_COUNTED:
            refusal = Refusal(refusal.minute, OVERFLOW, None, limit)
        self._counts[refusal] += 1

    def minute(self) -> int:
        return int(self._clock() // MINUTE)

    def closed(self) -> list[dict[str, Any]]:
        """Rows for the minutes before the current one, taken out of the tally."""
        return self._take(lambda minute: minute < self.minute())

    def remaining(self) -> list[dict[str, Any]]:
        """Rows for everything counted, the current minute too (the server is stopping)."""
        return self._take(lambda _: True)

    def _take(self, due: Callable[[int], bool]) -> list[dict[str, Any]]:
        taken = [refusal for refusal in self._counts if due(refusal.minute)]
        return [_row(refusal, self._counts.pop(refusal)) for refusal in taken]

    def seconds_to_next_minute(self) -> float:
        return MINUTE - self._clock() % MINUTE


def _row(refusal: Refusal, count: int) -> dict[str, Any]:
    return {
        "at": dt.datetime.fromtimestamp(refusal.minute * MINUTE, dt.UTC),
        "subject": storable(refusal.subject, 200),
        "company": None if refusal.company is None else storable(refusal.company, 64),
        "kind": "limit",
        "name": refusal.limit,
        "arguments_sha256": _NO_ARGUMENTS,
        "outcome": "refused",
        "latency_ms": 0.0,  # refused before any call began
        "trace_id": None,
        "call_id": None,
        "count": count,
    }


async def write(sessions: async_sessionmaker[AsyncSession], rows: list[dict[str, Any]]) -> None:
    """One insert per row: a few per minute, however many requests were refused."""
    for row in rows:
        await append(sessions, row)


async def keep_writing(tally: RefusalTally, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Runs as long as the server: writes each minute's counts just after it closes."""
    while True:
        await anyio.sleep(tally.seconds_to_next_minute())
        await write(sessions, tally.closed())
