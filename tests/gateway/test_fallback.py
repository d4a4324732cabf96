"""Fallback chains: which link answered, and why each earlier one was skipped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

import pytest

from server.fakes.anthropic import FakeAnthropic
from server.fakes.script import server_error
from server.gateway import (
    ChainResult,
    Decline,
    FallbackChain,
    LastResort,
    Link,
    ModelGateway,
    NotConfigured,
    Skip,
)
from tests.gateway.conftest import ask

pytestmark = pytest.mark.anyio


def review(skipped: Sequence[Skip]) -> str:
    return f"needs review after {len(skipped)} skips"


LAST = LastResort("needs_review", review)


def answers(value: str) -> Callable[[], Awaitable[str]]:
    async def answer() -> str:
        return value

    return answer


def raises(error: Exception) -> Callable[[], Awaitable[str]]:
    async def answer() -> str:
        raise error

    return answer


async def test_the_first_link_that_answers_wins() -> None:
    chain = FallbackChain([Link("llm", answers("TRAVEL")), Link("rules", answers("MEALS"))], last_resort=LAST)

    assert await chain.run() == ChainResult("TRAVEL", "llm", ())


async def test_skipped_links_say_why() -> None:
    chain = FallbackChain(
        [
            Link("llm", raises(NotConfigured("no LLM provider is configured"))),
            Link("model", raises(Decline("confidence 0.41 below 0.60"))),
            Link("rules", answers("MEALS")),
        ],
        last_resort=LAST,
    )

    result = await chain.run()

    assert (result.value, result.source) == ("MEALS", "rules")
    assert result.skipped == (
        Skip("llm", "not_configured: no LLM provider is configured"),
        Skip("model", "declined: confidence 0.41 below 0.60"),
    )


async def test_the_last_resort_answers_when_every_link_skips() -> None:
    chain = FallbackChain([Link("rules", raises(Decline("no rule matches")))], last_resort=LAST)

    result = await chain.run()

    assert result == ChainResult(
        "needs review after 1 skips", "needs_review", (Skip("rules", "declined: no rule matches"),)
    )


async def test_a_broken_link_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    chain = FallbackChain(
        [Link("model", raises(KeyError("feature"))), Link("rules", answers("MEALS"))], last_resort=LAST
    )

    result = await chain.run()

    assert result.skipped == (Skip("model", "error: KeyError"),)
    [logged] = [record for record in caplog.records if record.getMessage() == "fallback link failed"]
    assert logged.levelno == logging.ERROR
    assert logged.exc_info is not None


def test_links_have_distinct_names() -> None:
    with pytest.raises(ValueError, match="distinct"):
        FallbackChain([Link("rules", answers("A")), Link("rules", answers("B"))], last_resort=LAST)


async def test_a_failing_llm_falls_through_to_the_next_link(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(max_attempts=2)
    fake_llm.script.then(server_error(), server_error())

    async def llm() -> str:
        return str((await ask(gateway)).value.category)

    result = await FallbackChain([Link("llm", llm), Link("rules", answers("MEALS"))], last_resort=LAST).run()

    assert (result.value, result.source) == ("MEALS", "rules")
    assert result.skipped == (Skip("llm", "retries_exhausted: anthropic kept failing (server_error)"),)
