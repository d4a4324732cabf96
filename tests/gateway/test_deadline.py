"""Deadlines: a stalled provider never holds a caller beyond the call's deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.anthropic import FakeAnthropic
from server.fakes.script import Stall, server_error
from server.gateway import DeadlineExceeded, ModelGateway, RetriesExhausted
from tests.gateway.conftest import ask, total

pytestmark = pytest.mark.anyio
SLACK = 0.25  # scheduling and teardown of the cancelled request


async def test_a_stalled_provider_is_abandoned_at_the_deadline(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    gateway = make_gateway()
    fake_llm.script.then(Stall(30))

    started = time.perf_counter()
    with anyio.fail_after(5), pytest.raises(DeadlineExceeded):
        await ask(gateway, deadline=0.5)

    assert 0.5 <= time.perf_counter() - started < 0.5 + SLACK
    assert total(metrics, "outlay.gateway.calls", outcome="deadline_exceeded") == 1


async def test_the_deadline_covers_the_retries(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(max_attempts=5)
    fake_llm.script.then(server_error(), server_error(), Stall(30))

    started = time.perf_counter()
    with anyio.fail_after(5), pytest.raises(DeadlineExceeded):
        await ask(gateway, deadline=0.6)

    assert time.perf_counter() - started < 0.6 + SLACK
    assert len(fake_llm.script.received) == 3


async def test_attempts_time_out_on_their_own_and_are_retried(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(max_attempts=3, attempt_timeout_seconds=0.2, deadline_seconds=2.0)
    fake_llm.script.then(Stall(30), Stall(30), Stall(30))

    started = time.perf_counter()
    with anyio.fail_after(5), pytest.raises(RetriesExhausted, match="timeout"):
        await ask(gateway)

    # Three 0.2 s attempts, each cut short on its own: well before the 2 s deadline would have ended it.
    assert 0.6 <= time.perf_counter() - started < 1.5
    assert len(fake_llm.script.received) == 3


async def test_a_call_queued_behind_the_concurrency_limit_still_keeps_its_deadline(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(max_concurrency=1)
    fake_llm.script.then(Stall(0.5))
    outcomes: list[str] = []

    async def first() -> None:
        outcomes.append((await ask(gateway, "first")).value.category)

    async def queued() -> None:
        await anyio.sleep(0.1)  # let the first call take the only slot
        started = time.perf_counter()
        with pytest.raises(DeadlineExceeded):
            await ask(gateway, "queued", deadline=0.3)
        outcomes.append(f"gave up after {time.perf_counter() - started:.1f} s")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            tasks.start_soon(queued)

    assert outcomes == ["gave up after 0.3 s", "TRAVEL"]
    assert len(fake_llm.script.received) == 1  # the queued call never reached the provider


async def test_a_provider_too_slow_for_the_deadline_opens_the_circuit(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(breaker_failures=2)
    fake_llm.script.then(Stall(30), Stall(30))

    for _ in range(2):
        with pytest.raises(DeadlineExceeded):
            await ask(gateway, deadline=0.2)

    assert gateway.status()["llm"]["circuit"] == "open"
