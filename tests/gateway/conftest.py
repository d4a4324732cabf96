"""Gateway fixtures: the real SDKs against fake providers on loopback, and fast settings.

The fake servers live for the session (starting uvicorn costs more than a test); each test gets them
reset. Settings shrink every wait (backoff, cool-down, deadline) so that failures cost milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from pydantic import BaseModel, Field

from server.fakes.anthropic import FakeAnthropic
from server.fakes.kserve import FakeKServe
from server.fakes.loopback import serve_on_loopback
from server.fakes.script import Answer
from server.gateway import GatewaySettings, ModelGateway
from server.gateway import llm as _llm  # noqa: F401  (import the slow SDK now, not inside a timed test)

TEMPLATES = Path(__file__).parent / "templates"
CODES = ["TRAVEL", "MEALS", "SOFTWARE"]
GOOD = {"category": "TRAVEL", "confidence": 0.9, "reason": "A taxi ride."}
BEDROCK_MODEL = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"


class Guess(BaseModel):
    """Record the category of one expense."""

    category: str
    confidence: float = Field(ge=0, le=1)
    reason: str


@pytest.fixture
def aws_chain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_aws_credentials(monkeypatch, tmp_path)


def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials where boto3's standard chain finds them first; nothing on this machine leaks in."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def anthropic_server() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic()
    with serve_on_loopback(fake) as url:
        yield fake, url


@pytest.fixture
def fake_llm(anthropic_server: tuple[FakeAnthropic, str]) -> FakeAnthropic:
    """The fake Messages API, reset: it answers `GOOD` until told otherwise."""
    fake, _ = anthropic_server
    fake.reset(Answer(GOOD))
    return fake


def label_expenses(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The fake served model: TRAVEL for anything that mentions a taxi, else MEALS."""
    texts = request["inputs"][0]["data"]
    labels = ["TRAVEL" if "taxi" in str(text).lower() else "MEALS" for text in texts]
    return [{"name": "label", "shape": [len(labels)], "datatype": "BYTES", "data": labels}]


@pytest.fixture(scope="session")
def kserve_server() -> Iterator[tuple[FakeKServe, str]]:
    fake = FakeKServe({"categorizer": label_expenses})
    with serve_on_loopback(fake) as url:
        yield fake, url


@pytest.fixture
def fake_kserve(kserve_server: tuple[FakeKServe, str]) -> FakeKServe:
    fake, _ = kserve_server
    fake.script.reset(fake.script.default)
    return fake


@pytest.fixture
def kserve_url(kserve_server: tuple[FakeKServe, str]) -> str:
    return kserve_server[1]


@pytest.fixture
def llm_url(anthropic_server: tuple[FakeAnthropic, str]) -> str:
    return anthropic_server[1]


def fast_settings(**overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "provider": "anthropic",
        "anthropic_api_key": "test-key",
        "prompts_dir": TEMPLATES,
        "deadline_seconds": 3.0,
        "attempt_timeout_seconds": 2.0,
        "connect_timeout_seconds": 1.0,
        "backoff_base_seconds": 0.01,
        "backoff_max_seconds": 0.05,
        "breaker_failures": 5,
        "breaker_cooldown_seconds": 60.0,
    }
    return GatewaySettings.model_validate(values | overrides)


@pytest.fixture
def metrics() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meters(metrics: InMemoryMetricReader) -> MeterProvider:
    return MeterProvider(metric_readers=[metrics], shutdown_on_exit=False)


@pytest.fixture
async def make_gateway(
    llm_url: str, meters: MeterProvider, anyio_backend: str
) -> AsyncIterator[Callable[..., ModelGateway]]:
    """Factory: a gateway on the fake provider with `fast_settings(**overrides)`; closed after the test."""
    opened: list[ModelGateway] = []

    def make(*, clock: Callable[[], float] | None = None, **overrides: Any) -> ModelGateway:
        settings = fast_settings(**({"base_url": llm_url} | overrides))
        extra: dict[str, Any] = {"clock": clock} if clock else {}
        gateway = ModelGateway(settings, meters=meters, **extra)
        opened.append(gateway)
        return gateway

    yield make
    for gateway in opened:
        await gateway.aclose()


async def ask(gateway: ModelGateway, text: str = "UBER *TRIP 12345", **kwargs: Any) -> Any:
    """The test question: one expense, the three `CODES` as closed choices."""
    kwargs.setdefault("company", "acme")
    kwargs.setdefault("choices", {"category": CODES})
    return await gateway.structured("classify", {"text": text, "options": ", ".join(CODES)}, Guess, **kwargs)


def points(reader: InMemoryMetricReader, name: str) -> list[tuple[dict[str, Any], Any]]:
    """(attributes, value) of every data point of one metric; histograms give their count."""
    data = reader.get_metrics_data()
    found = []
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        found.append((dict(point.attributes or {}), getattr(point, "count", value)))
    return found


def total(reader: InMemoryMetricReader, name: str, **attributes: Any) -> Any:
    """Sum of a metric's points whose attributes include `attributes`."""
    return sum(value for attrs, value in points(reader, name) if attributes.items() <= attrs.items())
