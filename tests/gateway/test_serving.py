"""The model-serving client: KServe v2 over pooled httpx, under the same guard and accounting."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from server.fakes.kserve import FakeKServe
from server.fakes.script import Answer, Drop, Malformed, Stall, bad_request, server_error
from server.gateway import DeadlineExceeded, ModelGateway, NotConfigured, RequestRejected, Tensor
from tests.gateway.conftest import total

pytestmark = pytest.mark.anyio
TEXTS = Tensor(name="text", shape=[2], datatype="BYTES", data=["Taxi to the airport", "Team lunch"])


@pytest.fixture
def serving(make_gateway: Callable[..., ModelGateway], kserve_url: str) -> Callable[..., ModelGateway]:
    def make(**overrides: object) -> ModelGateway:
        return make_gateway(provider="none", serving_url=kserve_url, **overrides)

    return make


async def test_an_inference_round_trip(
    serving: Callable[..., ModelGateway], fake_kserve: FakeKServe, metrics: InMemoryMetricReader
) -> None:
    response = await serving().infer("categorizer", [TEXTS], company="acme", parameters={"top_k": 1})

    assert response.model_name == "categorizer"
    assert response.output("label").data == ["TRAVEL", "MEALS"]
    [request] = fake_kserve.script.received
    assert (request.method, request.path) == ("POST", "/v2/models/categorizer/infer")
    assert request.json() == {
        "inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": TEXTS.data}],
        "parameters": {"top_k": 1},
    }
    labels = {"kind": "serving", "provider": "serving", "model": "categorizer"}
    assert total(metrics, "outlay.gateway.calls", outcome="ok", **labels) == 1
    assert total(metrics, "outlay.gateway.latency", **labels) == 1


@pytest.mark.parametrize("failure", [server_error(503), Drop(), Malformed(), Answer({"no": "outputs"})])
async def test_retryable_failures_are_retried(
    serving: Callable[..., ModelGateway],
    fake_kserve: FakeKServe,
    metrics: InMemoryMetricReader,
    failure: Drop | Malformed | Answer,
) -> None:
    fake_kserve.script.then(failure)

    response = await serving().infer("categorizer", [TEXTS], company="acme")

    assert response.output("label").data == ["TRAVEL", "MEALS"]
    assert len(fake_kserve.script.received) == 2
    assert total(metrics, "outlay.gateway.retries", provider="serving") == 1


async def test_request_errors_are_not_retried(
    serving: Callable[..., ModelGateway], fake_kserve: FakeKServe
) -> None:
    fake_kserve.script.then(bad_request())
    gateway = serving()

    with pytest.raises(RequestRejected) as bad:
        await gateway.infer("categorizer", [TEXTS], company="acme")
    with pytest.raises(RequestRejected) as unknown:
        await gateway.infer("no-such-model", [TEXTS], company="acme")

    assert (bad.value.status, unknown.value.status) == (400, 404)
    assert len(fake_kserve.script.received) == 1  # the unknown model never reached the script


async def test_a_stalled_model_server_is_abandoned_at_the_deadline(
    serving: Callable[..., ModelGateway], fake_kserve: FakeKServe
) -> None:
    gateway = serving()
    fake_kserve.script.then(Stall(30))

    started = time.perf_counter()
    with anyio.fail_after(5), pytest.raises(DeadlineExceeded):
        await gateway.infer("categorizer", [TEXTS], company="acme", deadline=0.4)

    assert time.perf_counter() - started < 0.4 + 0.25


async def test_connections_are_pooled(serving: Callable[..., ModelGateway], fake_kserve: FakeKServe) -> None:
    gateway = serving()

    for _ in range(5):
        await gateway.infer("categorizer", [TEXTS], company="acme")

    assert len({request.client_port for request in fake_kserve.script.received}) == 1


async def test_the_model_server_has_its_own_circuit(
    serving: Callable[..., ModelGateway], fake_kserve: FakeKServe
) -> None:
    gateway = serving(breaker_failures=2, max_attempts=2)
    fake_kserve.script.then(server_error(), server_error())

    with pytest.raises(Exception, match="server_error"):
        await gateway.infer("categorizer", [TEXTS], company="acme")

    assert gateway.status()["serving"] == {"circuit": "open"}
    assert gateway.status()["llm"]["circuit"] == "not_configured"


async def test_without_a_model_server_inference_is_unavailable(
    make_gateway: Callable[..., ModelGateway], metrics: InMemoryMetricReader
) -> None:
    with pytest.raises(NotConfigured):
        await make_gateway().infer("categorizer", [TEXTS], company="acme")

    assert total(metrics, "outlay.gateway.calls", kind="serving", outcome="not_configured") == 1
