"""Providers: the Anthropic API, AWS Bedrock through `AnthropicBedrock`, or none at all."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.anthropic import FakeAnthropic
from server.gateway import ModelGateway, NotConfigured
from tests.gateway.conftest import BEDROCK_MODEL, GOOD, Guess, ask, total

pytestmark = pytest.mark.anyio


async def test_bedrock_is_called_on_its_invoke_route_with_sigv4(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, aws_chain: None
) -> None:
    gateway = make_gateway(provider="bedrock", bedrock_region="eu-west-1", model=BEDROCK_MODEL)

    answer = await ask(gateway)

    assert answer.value == Guess.model_validate(GOOD)
    assert (answer.provider, answer.model) == ("bedrock", BEDROCK_MODEL)
    assert answer.cost_usd > 0  # the Bedrock id found the Haiku price
    [request] = fake_llm.script.received
    assert request.path == f"/model/{BEDROCK_MODEL}/invoke"
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/bedrock/aws4_request" in request.headers["authorization"]
    body = request.json()
    assert body["anthropic_version"]  # Bedrock takes the API version in the body
    assert "model" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "record_guess"}


async def test_bedrock_without_credentials_is_unavailable(
    make_gateway: Callable[..., ModelGateway],
    fake_llm: FakeAnthropic,
    aws_chain: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    (tmp_path / "config").write_text("[profile empty]\nregion = eu-west-1\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    gateway = make_gateway(provider="bedrock", bedrock_profile="empty", model=BEDROCK_MODEL)

    with pytest.raises(NotConfigured, match="no usable credentials"):
        await ask(gateway)

    assert fake_llm.script.received == []


async def test_anthropic_without_a_key_is_unavailable(
    make_gateway: Callable[..., ModelGateway], fake_llm: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)

    with pytest.raises(NotConfigured, match="no usable credentials"):
        await ask(make_gateway(anthropic_api_key=None))

    assert fake_llm.script.received == []


async def test_without_a_provider_the_llm_is_unavailable_and_nothing_crashes(
    make_gateway: Callable[..., ModelGateway],
    fake_llm: FakeAnthropic,
    metrics: InMemoryMetricReader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="outlay.gateway")
    gateway = make_gateway(provider="none")

    with pytest.raises(NotConfigured):
        await ask(gateway)

    assert not gateway.llm_available
    assert gateway.status() == {
        "llm": {"provider": "none", "model": "claude-haiku-4-5", "circuit": "not_configured"},
        "serving": {"circuit": "not_configured"},
    }
    assert total(metrics, "outlay.gateway.calls", outcome="not_configured") == 1
    assert [r.__dict__["outcome"] for r in caplog.records if r.getMessage() == "model call"] == [
        "not_configured"
    ]
    assert fake_llm.script.received == []


async def test_a_misconfigured_provider_leaves_the_server_running_without_its_llm(
    make_gateway: Callable[..., ModelGateway], monkeypatch: pytest.MonkeyPatch, aws_chain: None
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)

    gateway = make_gateway(provider="bedrock")  # no region anywhere

    assert not gateway.llm_available
    with pytest.raises(NotConfigured):
        await ask(gateway)
