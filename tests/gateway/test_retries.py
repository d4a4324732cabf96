"""Retries: only on retryable failures, with full-jitter backoff, honouring `retry-after`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.anthropic import FakeAnthropic
from server.fakes.script import (
    Behaviour,
    Drop,
    Malformed,
    Status,
    bad_request,
    overloaded,
    rate_limited,
    server_error,
)
from server.gateway import ModelGateway, RequestRejected, RetriesExhausted
from server.gateway.resilience import Backoff, parse_retry_after
from tests.gateway.conftest import ask, total

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (server_error(500), "server_error"),
        (server_error(503), "server_error"),
        (overloaded(), "overloaded"),
        (rate_limited(), "rate_limited"),
        (Drop(), "connection"),
        (Malformed(), "malformed"),
    ],
)
async def test_retryable_failures_are_retried_until_an_answer(
    make_gateway: Callable[..., ModelGateway],
    fake_llm: FakeAnthropic,
    metrics: InMemoryMetricReader,
    failure: Behaviour,
    reason: str,
) -> None:
    fake_llm.script.then(failure, failure)

    answer = await ask(make_gateway(max_attempts=3))

    assert answer.retries == 2
    assert len(fake_llm.script.received) == 3
    assert total(metrics, "outlay.gateway.retries", reason=reason) == 2
    assert total(metrics, "outlay.gateway.calls", outcome="ok") == 1


async def test_the_attempts_are_bounded(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    fake_llm.script.then(*[server_error()] * 10)

    with pytest.raises(RetriesExhausted, match="server_error"):
        await ask(make_gateway(max_attempts=4))

    assert len(fake_llm.script.received) == 4
    assert total(metrics, "outlay.gateway.retries") == 3
    assert total(metrics, "outlay.gateway.calls", outcome="retries_exhausted") == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
async def test_request_errors_are_never_retried(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, status: int
) -> None:
    fake_llm.script.then(bad_request() if status == 400 else Status(status))

    with pytest.raises(RequestRejected) as rejected:
        await ask(make_gateway(max_attempts=5))

    assert rejected.value.status == status
    assert len(fake_llm.script.received) == 1


async def test_retry_after_is_honoured(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway()
    fake_llm.script.then(rate_limited(retry_after=0.4))

    started = time.perf_counter()
    answer = await ask(gateway)

    assert time.perf_counter() - started >= 0.4  # the backoff alone would wait at most 0.01 s
    assert answer.retries == 1


async def test_a_retry_after_beyond_the_deadline_gives_up_at_once(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(deadline_seconds=2.0)
    fake_llm.script.then(rate_limited(retry_after=30))

    started = time.perf_counter()
    with pytest.raises(RetriesExhausted, match="rate_limited"):
        await ask(gateway)

    assert time.perf_counter() - started < 0.5
    assert len(fake_llm.script.received) == 1


def test_the_backoff_window_doubles_up_to_its_cap() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(7))

    assert [backoff.window(retry) for retry in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_full_jitter_spreads_the_delays_over_the_whole_window() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(7))

    delays = [backoff.delay(3) for _ in range(2000)]

    assert all(0 <= delay <= 2.0 for delay in delays)
    assert min(delays) < 0.1  # full jitter: from nothing to the whole window
    assert max(delays) > 1.9


def test_retry_after_is_a_floor_under_the_jitter() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(7))

    assert all(backoff.delay(1, retry_after=3.0) == 3.0 for _ in range(100))


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "Thu, 01 Jan 1970 00:00:10 GMT"}, 7.0),
        ({"retry-after": "Thu, 01 Jan 1970 00:00:01 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, now=3.0) == seconds
