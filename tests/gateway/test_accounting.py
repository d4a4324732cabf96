"""What a call cost and how it went: metrics on the `outlay.gateway` meter and one log line per call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.anthropic import FakeAnthropic
from server.fakes.script import Answer, rate_limited, server_error
from server.gateway import ModelGateway, ModelPrice
from server.gateway.accounting import cost_usd, price_for
from server.settings.gateway import default_prices
from tests.gateway.conftest import GOOD, ask, points, total

pytestmark = pytest.mark.anyio


def gateway_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [record.__dict__ for record in caplog.records if record.getMessage() == "model call"]


async def test_tokens_cost_retries_latency_and_outcome_are_metrics(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, metrics: InMemoryMetricReader
) -> None:
    gateway = make_gateway(model="claude-sonnet-4-6")
    fake_llm.script.then(rate_limited(0), server_error(), Answer(GOOD, input_tokens=1000, output_tokens=200))

    await ask(gateway)

    labels = {"provider": "anthropic", "model": "claude-sonnet-4-6"}
    assert total(metrics, "outlay.gateway.calls", outcome="ok", kind="llm", **labels) == 1
    assert total(metrics, "outlay.gateway.retries", reason="rate_limited") == 1
    assert total(metrics, "outlay.gateway.retries", reason="server_error") == 1
    assert total(metrics, "outlay.gateway.tokens", direction="input", **labels) == 1000
    assert total(metrics, "outlay.gateway.tokens", direction="output", **labels) == 200
    assert total(metrics, "outlay.gateway.cost", **labels) == 6000  # $0.006: 1000 x $3 + 200 x $15 per M
    assert total(metrics, "outlay.gateway.latency", outcome="ok") == 1  # one observation
    assert points(metrics, "outlay.gateway.circuit") == [({"provider": "anthropic"}, 0)]


async def test_one_log_line_per_call_without_the_prompt(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="outlay.gateway")
    fake_llm.script.then(server_error())

    answer = await ask(make_gateway(), "A secret memo")

    [line] = gateway_lines(caplog)
    assert {key: line[key] for key in ("kind", "provider", "model", "company", "template")} == {
        "kind": "llm",
        "provider": "anthropic",
        "model": "claude-haiku-4-5",
        "company": "acme",
        "template": "classify",
    }
    assert line["template_hash"] == answer.template_hash
    assert (line["input_tokens"], line["output_tokens"], line["cost_usd"]) == (100, 20, "0.0002")
    assert (line["retries"], line["repaired"], line["outcome"]) == (1, False, "ok")
    assert isinstance(line["latency_ms"], float)
    assert "secret" not in str(line)


async def test_a_failed_call_is_logged_with_its_outcome(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="outlay.gateway")
    fake_llm.script.then(server_error(), server_error())

    with pytest.raises(Exception, match="server_error"):
        await ask(make_gateway(max_attempts=2))

    [line] = gateway_lines(caplog)
    assert (line["outcome"], line["retries"], line["input_tokens"]) == ("retries_exhausted", 1, 0)


def test_prices_match_model_ids_as_providers_spell_them() -> None:
    prices = default_prices()

    haiku = prices["claude-haiku-4-5"]
    assert price_for("claude-haiku-4-5", prices) == haiku
    assert price_for("eu.anthropic.claude-haiku-4-5-20251001-v1:0", prices) == haiku
    assert price_for("claude-unknown-9", prices) is None


def test_the_longest_matching_price_wins() -> None:
    prices = {"claude": ModelPrice(input=Decimal(1), output=Decimal(1))}
    prices["claude-opus"] = ModelPrice(input=Decimal(15), output=Decimal(75))

    assert price_for("claude-opus-4-5", prices) == prices["claude-opus"]


def test_cost_is_exact_decimal_money() -> None:
    price = ModelPrice(input=Decimal("0.8"), output=Decimal("4"))

    assert cost_usd(price, 3, 7) == Decimal("0.0000304")


async def test_an_unpriced_model_costs_zero_and_says_so_once(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = make_gateway(model="claude-next", cache_ttl_seconds=0)

    answers = [await ask(gateway) for _ in range(2)]

    assert [answer.cost_usd for answer in answers] == [0, 0]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "no price for this model: its cost counts as 0"
    ]
