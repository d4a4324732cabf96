"""Bursts: many tool calls at once against a provider that pushes back or falls over mid-burst."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.anthropic import FakeAnthropic
from server.fakes.script import Answer, Behaviour, Stall, rate_limited, server_error
from server.gateway import FallbackChain, GatewayError, LastResort, Link, ModelGateway, Skip
from tests.gateway.conftest import GOOD, ask, total

pytestmark = pytest.mark.anyio
BURST = 50
DEADLINE = 2.0
SLACK = 0.5


async def burst(calls: Sequence[Callable[[], Any]]) -> tuple[list[Any], list[float]]:
    """Run every call at once; each one's result (or the GatewayError it raised) and its latency."""
    results: list[Any] = [None] * len(calls)
    latencies = [0.0] * len(calls)

    async def one(index: int) -> None:
        started = time.perf_counter()
        try:
            results[index] = await calls[index]()
        except GatewayError as exc:
            results[index] = exc
        latencies[index] = time.perf_counter() - started

    with anyio.fail_after(DEADLINE * 3):
        async with anyio.create_task_group() as tasks:
            for index in range(len(calls)):
                tasks.start_soon(one, index)
    return results, latencies


async def test_fifty_calls_against_a_provider_that_rate_limits_half_of_them(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    gateway = make_gateway(max_concurrency=8, deadline_seconds=DEADLINE, attempt_timeout_seconds=1.0)
    thinking = Stall(0.05, Answer(GOOD))  # a provider that takes a moment, so that requests overlap
    fake_llm.reset(thinking)
    pushback: list[Behaviour] = [rate_limited(retry_after=0.05), thinking]
    fake_llm.script.then(*pushback * (BURST // 2))

    started = time.perf_counter()
    results, latencies = await burst([partial(ask, gateway, f"expense {n}") for n in range(BURST)])
    wall = time.perf_counter() - started

    failed = [result for result in results if isinstance(result, GatewayError)]
    assert failed == []
    assert max(latencies) < DEADLINE + SLACK
    assert total(metrics, "outlay.gateway.retries", reason="rate_limited") == BURST // 2
    assert total(metrics, "outlay.gateway.calls", outcome="ok") == BURST
    assert len(fake_llm.script.received) == BURST + BURST // 2
    assert 1 < fake_llm.peak_in_flight <= 8  # in parallel, but queued instead of stampeding the provider
    assert gateway.status()["llm"]["circuit"] == "closed"  # rate limits are not failures
    peak = fake_llm.peak_in_flight
    print(f"\n50 calls, 25 rate-limited: wall {wall:.2f} s, slowest {max(latencies):.2f} s, peak {peak}")


async def test_an_outage_mid_burst_degrades_every_call_within_its_deadline(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(max_concurrency=8, deadline_seconds=DEADLINE, breaker_failures=5)
    fake_llm.reset(server_error(503))  # after the first ten answers, the provider is down
    fake_llm.script.then(*[Answer(GOOD)] * 10)

    def categorize(n: int) -> Callable[[], Any]:
        async def llm() -> str:
            return str((await ask(gateway, f"expense {n}")).value.category)

        def needs_review(skipped: Sequence[Skip]) -> str:
            return "NEEDS_REVIEW"

        chain = FallbackChain([Link("llm", llm)], last_resort=LastResort("needs_review", needs_review))
        return chain.run

    started = time.perf_counter()
    results, latencies = await burst([categorize(n) for n in range(BURST)])
    wall = time.perf_counter() - started

    sources = [result.source for result in results]
    assert sources.count("llm") == 10
    assert sources.count("needs_review") == BURST - 10
    reasons = {result.skipped[0].reason.split(":")[0] for result in results if result.skipped}
    assert "circuit_open" in reasons  # most calls failed fast once the circuit opened
    assert max(latencies) < DEADLINE + SLACK
    assert len(fake_llm.script.received) < BURST  # the open circuit kept the rest from piling on
    print(f"\noutage mid-burst: wall {wall:.2f} s, slowest {max(latencies):.2f} s, reasons {sorted(reasons)}")
