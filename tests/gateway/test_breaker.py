"""The circuit breaker: open after N consecutive failures, one probe after the cool-down, then closed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.anthropic import FakeAnthropic
from server.fakes.script import rate_limited, server_error
from server.gateway import CircuitOpen, ModelGateway, RetriesExhausted
from server.gateway.resilience import CircuitBreaker
from tests.clocks import Clock
from tests.gateway.conftest import ask, points

pytestmark = pytest.mark.anyio


def breaker(clock: Clock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker("anthropic", threshold=threshold, cooldown=30.0, clock=clock)


def state(circuit: CircuitBreaker) -> str:
    return circuit.state.name.lower()


def fail(circuit: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        circuit.enter()
        circuit.failed()


def test_it_opens_after_consecutive_failures_only() -> None:
    circuit = breaker(Clock())
    fail(circuit, 2)
    circuit.enter()
    circuit.succeeded()  # a success in between starts the count again
    fail(circuit, 2)
    assert state(circuit) == "closed"

    fail(circuit, 1)

    assert state(circuit) == "open"
    with pytest.raises(CircuitOpen):
        circuit.enter()


def test_after_the_cooldown_exactly_one_probe_goes_through() -> None:
    clock = Clock()
    circuit = breaker(clock)
    fail(circuit, 3)
    clock.now += 29.9
    assert state(circuit) == "open"
    clock.now += 0.1

    circuit.enter()  # the probe

    assert state(circuit) == "half_open"
    with pytest.raises(CircuitOpen):
        circuit.enter()  # everyone else waits for the probe's verdict


def test_a_successful_probe_closes_the_circuit() -> None:
    clock = Clock()
    circuit = breaker(clock)
    fail(circuit, 3)
    clock.now += 30
    circuit.enter()

    circuit.succeeded()

    assert state(circuit) == "closed"
    fail(circuit, 2)
    assert state(circuit) == "closed"  # the count started over


def test_a_failed_probe_opens_it_for_another_cooldown() -> None:
    clock = Clock()
    circuit = breaker(clock)
    fail(circuit, 3)
    clock.now += 30
    circuit.enter()

    circuit.failed()

    assert state(circuit) == "open"
    clock.now += 29
    assert state(circuit) == "open"
    clock.now += 1
    assert state(circuit) == "half_open"


def test_a_probe_that_tells_nothing_lets_the_next_call_probe() -> None:
    clock = Clock()
    circuit = breaker(clock)
    fail(circuit, 3)
    clock.now += 30
    circuit.enter()

    circuit.released()  # e.g. rate limited: no verdict on the provider's health

    circuit.enter()
    assert state(circuit) == "half_open"


async def test_a_failing_provider_is_left_alone_until_the_cooldown_ends(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    clock = Clock()
    gateway = make_gateway(clock=clock, max_attempts=2, breaker_failures=4, breaker_cooldown_seconds=30)
    fake_llm.script.then(*[server_error()] * 4)
    for _ in range(2):
        with pytest.raises(RetriesExhausted):
            await ask(gateway)
    assert gateway.status()["llm"]["circuit"] == "open"
    assert not gateway.llm_available
    assert points(metrics, "outlay.gateway.circuit") == [({"provider": "anthropic"}, 2)]

    with pytest.raises(CircuitOpen):
        await ask(gateway)
    assert len(fake_llm.script.received) == 4  # the open circuit sent nothing

    clock.now += 30
    answer = await ask(gateway)

    assert answer.value.category == "TRAVEL"
    assert gateway.status()["llm"]["circuit"] == "closed"
    assert points(metrics, "outlay.gateway.circuit") == [({"provider": "anthropic"}, 0)]


async def test_the_circuit_opens_mid_call_and_stops_the_retries(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    fake_llm.script.then(*[server_error()] * 10)

    with pytest.raises(CircuitOpen):
        await ask(make_gateway(max_attempts=10, breaker_failures=3))

    assert len(fake_llm.script.received) == 3


async def test_rate_limits_do_not_open_the_circuit(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(max_attempts=6, breaker_failures=2)
    fake_llm.script.then(*[rate_limited(0)] * 5)

    answer = await ask(gateway)

    assert answer.retries == 5
    assert gateway.status()["llm"]["circuit"] == "closed"
