"""`outlay model serve` speaks the Open Inference Protocol, and the categorizer can use it instead of
the in-process model (OUTLAY_CATEGORIZE_MODEL=remote), falling back to it when the server is gone."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from server.fakes.loopback import free_port
from server.gateway import GatewaySettings
from server.kit.merchants import merchant_key
from tests.categorize.conftest import server_for
from tests.transports.conftest import OUTLAY, server_env
from tests.world import call_ok, connect, raw

pytestmark = pytest.mark.anyio


@pytest.fixture
def model_server(trained_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with (tmp_path / "model-server.log").open("wb") as log:
        process = subprocess.Popen(
            [OUTLAY, "model", "serve", "--port", str(port)],
            env=server_env(trained_url),
            stdout=log,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx2.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            time.sleep(0.1)
    try:
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def infer(url: str, model: str, inputs: list[dict[str, object]]) -> httpx2.Response:
    return httpx2.post(f"{url}/v2/models/{model}/infer", json={"id": "r1", "inputs": inputs}, timeout=10)


def row(**values: object) -> list[dict[str, object]]:
    texts = {"descriptor": "", "merchant": "", "mcc": "", "memo": "", "team": ""} | values
    tensors: list[dict[str, object]] = [
        {"name": name, "shape": [1], "datatype": "BYTES", "data": [texts[name]]} for name in texts
    ]
    return [*tensors, {"name": "amount", "shape": [1], "datatype": "FP64", "data": [18.5]}]


def test_the_model_server_answers_the_open_inference_protocol(
    model_server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, _ = model_server

    metadata = httpx2.get(f"{url}/v2/models/categorize-acme", timeout=10).json()
    answer = infer(url, "categorize-acme", row(descriptor="UBER *TRIP", mcc="4121")).json()

    assert (metadata["versions"], metadata["parameters"]) == (["1"], {"serving_version": 1})
    assert (answer["model_name"], answer["model_version"], answer["id"]) == ("categorize-acme", "1", "r1")
    probabilities, classes = answer["outputs"]
    assert probabilities["shape"] == [1, len(classes["data"])]
    assert sum(probabilities["data"]) == pytest.approx(1.0, abs=1e-4)
    best = max(zip(probabilities["data"], classes["data"], strict=True))[1]
    assert best == "TRAVEL-GROUND"
    assert infer(url, "categorize-globex", row(descriptor="X")).status_code == 404
    assert infer(url, "categorize-acme", row(descriptor="X")[:3]).status_code == 400


async def test_the_categorizer_uses_the_model_server_and_falls_back_when_it_is_gone(
    trained_url: str, model_server: tuple[str, subprocess.Popen[bytes]], anyio_backend: str
) -> None:
    url, process = model_server
    [(ref,)] = await raw(
        trained_url, "SELECT ref FROM expenses WHERE category_id IS NULL ORDER BY ref LIMIT 1"
    )
    rules = {key for (key,) in await raw(trained_url, "SELECT merchant_key FROM category_rules")}
    names = [name for (name,) in await raw(trained_url, "SELECT name FROM merchants ORDER BY name")]
    ruled = next(name for name in names if merchant_key(name) in rules)
    remote = server_for(
        trained_url,
        categorize_model="remote",
        gateway=GatewaySettings(
            serving_url=url, deadline_seconds=2.0, attempt_timeout_seconds=1.0, max_attempts=1
        ),
    )

    async with connect(remote, "auto") as client:
        served = await call_ok(client, "categorize_expense", {"expense_id": ref})
        process.terminate()
        process.wait(timeout=10)
        fallen_back = await call_ok(client, "categorize_expense", {"expense_id": ref})
        by_rule = await call_ok(client, "categorize_expense", {"descriptor": ruled, "merchant": ruled})
    async with connect(server_for(trained_url), "auto") as client:
        local = await call_ok(client, "categorize_expense", {"expense_id": ref})

    assert {**fallen_back, "degraded": []} == local
    assert fallen_back["degraded"] == [  # the server is gone: connections refused on every attempt
        {
            "link": "model_server",
            "reason": "retries_exhausted",
            "note": "model server unavailable (retries exhausted); in-process model answered",
        }
    ]
    assert served["degraded"] == []
    assert (by_rule["source"], by_rule["degraded"]) == ("rule", [])  # a company rule needs no model
    assert served["category"]["code"] == local["category"]["code"]
    assert served["category"]["confidence"] == pytest.approx(local["category"]["confidence"], abs=1e-3)
