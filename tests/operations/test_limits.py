"""Abuse limits over real HTTP: the rate per caller, the body size; the slots in flight in process."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from server.shared.memory import CallerSlots, TokenBuckets
from tests.operations.conftest import Spawn
from tests.transports.conftest import TOKENS
from tests.transports.test_http import INITIALIZE, MCP_HEADERS

LIST_TOOLS = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


def _post(url: str, token: str, body: dict[str, object] | bytes) -> httpx2.Response:
    headers = MCP_HEADERS | {"Authorization": f"Bearer {token}", "MCP-Protocol-Version": "2025-11-25"}
    if isinstance(body, bytes):
        return httpx2.post(f"{url}/mcp", content=body, headers=headers)
    return httpx2.post(f"{url}/mcp", json=body, headers=headers)


@pytest.fixture(scope="module")
def limited(spawn: Spawn, seeded_url: str) -> str:
    # A rate nobody reaches by accident: each caller has 3 requests, then one every 100 s.
    return spawn(
        seeded_url,
        OUTLAY_RATE_LIMIT__REQUESTS_PER_SECOND="0.01",
        OUTLAY_RATE_LIMIT__BURST="3",
        OUTLAY_RATE_LIMIT__MAX_BODY_BYTES="4096",
    )


def test_a_caller_past_its_rate_gets_429_with_retry_after_and_others_do_not(limited: str) -> None:
    answers = [_post(limited, TOKENS["acme"], INITIALIZE).status_code for _ in range(4)]
    refused = _post(limited, TOKENS["acme"], LIST_TOOLS)

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 100
    assert _post(limited, TOKENS["globex"], INITIALIZE).status_code == 200


def test_an_oversized_body_gets_413_whether_announced_or_not(limited: str) -> None:
    padding = {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": {"pad": "x" * 5000}}}
    announced = _post(limited, TOKENS["globex"], padding)

    def chunks() -> object:
        yield b'{"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {"_meta": {"pad": "'
        yield b"y" * 5000
        yield b'"}}}'

    headers = MCP_HEADERS | {"Authorization": f"Bearer {TOKENS['globex']}"}
    streamed = httpx2.post(f"{limited}/mcp", content=chunks(), headers=headers)  # type: ignore[arg-type]

    assert (announced.status_code, streamed.status_code) == (413, 413)
    assert "transfer-encoding" in streamed.request.headers


def test_refusals_are_counted_for_prometheus(limited: str) -> None:
    statuses = [_post(limited, TOKENS["acme"], INITIALIZE).status_code for _ in range(5)]
    text = httpx2.get(f"{limited}/metrics").text

    [line] = [
        line
        for line in text.splitlines()
        if line.startswith("outlay_http_refused_total{") and '"rate"' in line
    ]
    assert 'status="429"' in line
    assert statuses.count(429) >= 2  # a burst of 3 at most
    assert float(line.rsplit(" ", 1)[1]) >= statuses.count(429)


def test_the_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=2, clock=lambda: now[0])

    assert [buckets.take_now("a"), buckets.take_now("a")] == [0.0, 0.0]
    assert buckets.take_now("a") == pytest.approx(0.5)
    assert buckets.take_now("b") == 0.0
    now[0] = 0.5
    assert buckets.take_now("a") == 0.0


@pytest.mark.anyio
async def test_a_caller_beyond_its_slots_waits_then_is_refused_without_blocking_others() -> None:
    slots = CallerSlots(limit=1, wait=0.05)
    held = await slots.acquire("a")
    assert held is not None

    assert await slots.acquire("a") is None  # waited 50 ms for a slot that stayed taken
    other = await slots.acquire("b")
    assert other is not None
    slots.release("b", other)

    async with anyio.create_task_group() as tasks:
        waiting: list[object] = []

        async def wait_for_slot() -> None:
            waiting.append(await slots.acquire("a"))

        slots.wait = 5.0
        tasks.start_soon(wait_for_slot)
        await anyio.sleep(0.01)
        slots.release("a", held)
    assert waiting
    assert waiting[0] is not None
