"""Shared state on Redis, two `SharedState`s standing for two replicas: they count one caller, one
budget and one cache; and while Redis is away, reads fall back and writes are refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import pytest
import redis

from server.shared.kinds import SharedStateUnavailable
from server.shared.state import SharedState, in_process, open_shared_state
from tests.shared.conftest import REDIS_URL, no_redis_url, settings

pytestmark = pytest.mark.anyio
DAY = dt.date(2026, 7, 20)


@asynccontextmanager
async def replicas(
    count: int, url: str | None, prefix: str, values: dict[str, Any], lease: float = 30.0
) -> AsyncIterator[list[SharedState]]:
    async with AsyncExitStack() as stack:
        config = settings(url, prefix, **values)
        opened = [open_shared_state(config, lambda: DAY, lease) for _ in range(count)]
        yield [await stack.enter_async_context(state) for state in opened]


async def test_two_replicas_spend_one_callers_bucket(redis_prefix: str) -> None:
    limits = {"rate_limit": {"requests_per_second": 0.01, "burst": 4}}
    async with replicas(2, REDIS_URL, redis_prefix, limits) as (one, two):
        rates = [state.limits.rate for state in (one, two, one, two, one, two)]
        waits = [await rate.take("token:acme:ann") for rate in rates if rate is not None]
        other = await rates[1].take("token:acme:bob") if rates[1] else None

    assert waits[:4] == [0.0] * 4
    assert 99 <= waits[4] <= 100
    assert other == 0.0


async def test_a_slot_is_shared_and_a_dead_replicas_lease_expires(
    redis_prefix: str, redis_client: redis.Redis
) -> None:
    limits = {"rate_limit": {"concurrency": 1, "queue_seconds": 0.05}}
    async with replicas(2, REDIS_URL, redis_prefix, limits) as (one, two):
        assert one.limits.slots is not None
        assert two.limits.slots is not None
        async with one.limits.slots.hold("ann") as first, two.limits.slots.hold("ann") as second:
            assert (first, second) == (True, False)
        async with two.limits.slots.hold("ann") as after_release:
            assert after_release
        # A replica that died holding the slot: its lease, already past, is dropped on the next count.
        redis_client.zadd(f"{redis_prefix}:slots:ann", {"dead-replica": 1})
        async with two.limits.slots.hold("ann") as after_death:
            assert after_death


async def test_a_slot_held_longer_than_its_lease_is_renewed_by_its_holder(redis_prefix: str) -> None:
    limits = {"rate_limit": {"concurrency": 1, "queue_seconds": 0.05}}
    async with replicas(2, REDIS_URL, redis_prefix, limits, lease=0.3) as (one, two):
        assert one.limits.slots is not None
        assert two.limits.slots is not None
        async with one.limits.slots.hold("ann") as first:
            await anyio.sleep(1.0)  # three leases long: renewed every 0.1 s
            async with two.limits.slots.hold("ann") as second:
                assert (first, second) == (True, False)


async def test_the_budget_is_reserved_before_and_settled_after_across_replicas(redis_prefix: str) -> None:
    async with replicas(2, REDIS_URL, redis_prefix, {"gateway": {"daily_token_budget": 1000}}) as (one, two):
        first = await one.budget.reserve("acme", 600)
        second = await two.budget.reserve("acme", 600)  # 600 < 1000: granted, the count is now 1200
        refused = await one.budget.reserve("acme", 600)
        assert first is not None
        assert second is not None
        await one.budget.settle(first, 120)
        await two.budget.settle(second, 120)
        after = await two.budget.reserve("acme", 600)

        assert refused is None
        assert after is not None
        assert await one.budget.used("acme") == 840
        assert await two.budget.reserve("globex", 600) is not None


async def test_an_answer_cached_by_one_replica_is_found_by_the_other(
    redis_prefix: str, redis_client: redis.Redis
) -> None:
    async with replicas(2, REDIS_URL, redis_prefix, {"gateway": {"cache_ttl_seconds": 60}}) as (one, two):
        await one.cache.put("acme", "k1", {"category": "TRAVEL"})

        assert await two.cache.get("acme", "k1") == {"category": "TRAVEL"}
        assert await two.cache.get("globex", "k1") is None
    assert 0 < redis_client.pttl(f"{redis_prefix}:cache:acme:k1") <= 60_000


async def test_without_redis_reads_fall_back_and_writes_are_refused() -> None:
    limits = {"rate_limit": {"requests_per_second": 0.01, "burst": 1}, "gateway": {"daily_token_budget": 10}}
    async with replicas(1, no_redis_url(), "down", limits) as (state,):
        assert state.limits.rate is not None
        waits = [await state.limits.rate.take("ann") for _ in range(2)]  # this process's own bucket
        with pytest.raises(SharedStateUnavailable):
            await state.budget.reserve("acme", 1)
        assert await state.cache.get("acme", "k1") is None
        await state.cache.put("acme", "k1", {})

        assert waits[0] == 0.0
        assert waits[1] > 0
        assert not await state.writable()
        assert await state.status() == {"backend": "redis", "status": "unreachable", "writes": "refused"}


async def test_in_process_state_always_takes_writes() -> None:
    state = in_process(settings(None))

    assert await state.writable()
    assert await state.status() == {"backend": "memory", "status": "ok", "writes": "accepted"}


async def test_a_slot_falls_back_to_the_process_while_redis_is_away() -> None:
    limits = {"rate_limit": {"concurrency": 1, "queue_seconds": 0.05}}
    async with replicas(1, no_redis_url(), "down", limits) as (state,):
        assert state.limits.slots is not None
        slots = state.limits.slots
        with anyio.fail_after(5):
            async with slots.hold("ann") as first, slots.hold("ann") as second:
                assert (first, second) == (True, False)


def test_the_redis_url_is_checked_and_an_empty_one_unsets_it() -> None:
    with pytest.raises(ValueError, match="must start with redis://"):
        settings("http://127.0.0.1:6379")

    assert settings("").redis_url is None
