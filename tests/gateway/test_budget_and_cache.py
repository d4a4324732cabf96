"""The daily token budget per company, and the cache that keeps the same question from being paid twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.anthropic import FakeAnthropic
from server.gateway import BudgetExhausted, ModelGateway
from server.shared.memory import MemoryBudget
from tests.clocks import Clock
from tests.gateway.conftest import ask, total

pytestmark = pytest.mark.anyio


async def test_an_exhausted_budget_makes_the_llm_unavailable_for_that_company_only(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    gateway = make_gateway(daily_token_budget=300, cache_ttl_seconds=0)  # each answer: 120 tokens
    for n in range(3):
        await ask(gateway, f"expense {n}")  # 0, 120, 240 used before: under 300, so asked

    with pytest.raises(BudgetExhausted):
        await ask(gateway, "one too many")
    await ask(gateway, "another company", company="globex")

    assert len(fake_llm.script.received) == 4
    assert await gateway.accounting.budget.used("acme") == 360
    assert total(metrics, "outlay.gateway.calls", outcome="budget_exhausted") == 1


async def test_the_budget_starts_afresh_each_utc_day() -> None:
    today = dt.date(2026, 7, 20)
    budget = MemoryBudget(100, today=lambda: today)
    budget.spend("acme", 100)
    assert await budget.reserve("acme", 10) is None

    today = dt.date(2026, 7, 21)

    assert await budget.reserve("acme", 10) is not None
    assert await budget.used("acme") == 0


async def test_no_budget_means_no_limit() -> None:
    budget = MemoryBudget(None)
    budget.spend("acme", 10**12)

    assert await budget.reserve("acme", 10) is not None


async def test_the_same_question_is_answered_from_the_cache(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    gateway = make_gateway()
    first = await ask(gateway, "UBER *TRIP")

    again = await ask(gateway, "UBER *TRIP")

    assert len(fake_llm.script.received) == 1
    assert (first.cached, again.cached) == (False, True)
    assert again.value == first.value
    assert (again.input_tokens, again.output_tokens, again.cost_usd) == (0, 0, 0)
    assert total(metrics, "outlay.gateway.calls", outcome="cache_hit") == 1
    assert total(metrics, "outlay.gateway.tokens", direction="input") == 100


async def test_the_cache_key_is_the_redacted_question(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway()
    await ask(gateway, "Taxi, receipt to ann@acme.example")

    same_once_redacted = await ask(gateway, "Taxi, receipt to bob@acme.example")
    other_text = await ask(gateway, "Taxi, no receipt")
    other_company = await ask(gateway, "Taxi, receipt to ann@acme.example", company="globex")
    other_choices = await ask(gateway, "Taxi, receipt to ann@acme.example", choices={"category": ["TRAVEL"]})

    assert same_once_redacted.cached
    assert [other_text.cached, other_company.cached, other_choices.cached] == [False, False, False]
    assert len(fake_llm.script.received) == 4


async def test_cached_answers_expire(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    clock = Clock(now=0.0)
    gateway = make_gateway(clock=clock, cache_ttl_seconds=60)
    await ask(gateway)
    clock.now += 59
    assert (await ask(gateway)).cached

    clock.now += 1

    assert not (await ask(gateway)).cached
    assert len(fake_llm.script.received) == 2


async def test_a_zero_ttl_turns_the_cache_off(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic
) -> None:
    gateway = make_gateway(cache_ttl_seconds=0)

    answers = [await ask(gateway) for _ in range(2)]

    assert [answer.cached for answer in answers] == [False, False]
    assert len(fake_llm.script.received) == 2
