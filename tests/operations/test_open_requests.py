"""What a request holds open on /mcp, over real HTTP: a GET (the legacy SSE stream a stateless server
never uses) is a 405 at once and holds no slot; across callers, requests open at once are capped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import anyio
import httpx2
import pytest

from tests.operations.conftest import Spawn
from tests.transports.conftest import TOKENS
from tests.transports.test_http import INITIALIZE, MCP_HEADERS

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def capped(spawn: Spawn, seeded_url: str) -> str:
    # Two slots per caller, waited for briefly; three requests open at once across callers.
    return spawn(
        seeded_url,
        OUTLAY_RATE_LIMIT__CONCURRENCY="2",
        OUTLAY_RATE_LIMIT__QUEUE_SECONDS="0.2",
        OUTLAY_RATE_LIMIT__MAX_CONNECTIONS="3",
    )


def headers(company: str, version: str | None = "2025-11-25") -> dict[str, str]:
    versioned = {"MCP-Protocol-Version": version} if version else {}
    return MCP_HEADERS | versioned | {"Authorization": f"Bearer {TOKENS[company]}"}


@pytest.mark.parametrize("version", [None, "2025-11-25", "2026-07-28"])
async def test_a_get_is_405_at_once_and_idle_gets_never_lock_the_caller_out(
    capped: str, version: str
) -> None:
    get_headers = headers("acme", version) | {"Accept": "text/event-stream"}
    async with httpx2.AsyncClient(timeout=10) as http, AsyncExitStack() as streams:
        with anyio.fail_after(10):
            # More GETs kept open than the caller has slots: before, each was an SSE stream that never ended.
            gets = [
                await streams.enter_async_context(http.stream("GET", f"{capped}/mcp", headers=get_headers))
                for _ in range(3)
            ]
            post = await http.post(f"{capped}/mcp", json=INITIALIZE, headers=headers("acme"))

    assert [(get.status_code, get.headers.get("allow")) for get in gets] == [(405, "POST")] * 3
    assert post.status_code == 200


async def slow_body(released: anyio.Event) -> AsyncIterator[bytes]:
    yield b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", '
    await released.wait()
    yield b'"params": {"protocolVersion": "2025-11-25", "capabilities": {}, '
    yield b'"clientInfo": {"name": "t", "version": "1"}}}'


async def open_requests(http: httpx2.AsyncClient, url: str) -> float:
    text = (await http.get(f"{url}/metrics")).text
    found = [line for line in text.splitlines() if line.startswith("outlay_http_open_requests")]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


async def until_open(http: httpx2.AsyncClient, url: str, count: int) -> None:
    """Until the server counts `count` requests open (another process: its metrics are what it tells)."""
    while True:
        if await open_requests(http, url) >= count:
            return
        await anyio.sleep(0.02)


async def test_past_the_open_requests_cap_across_callers_the_answer_is_503_with_retry_after(
    capped: str,
) -> None:
    released = anyio.Event()
    statuses: list[int] = []
    async with httpx2.AsyncClient(timeout=10) as http:

        async def post_slowly(company: str) -> None:
            response = await http.post(f"{capped}/mcp", content=slow_body(released), headers=headers(company))
            statuses.append(response.status_code)

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tasks:
                for company in ("acme", "globex", "acme"):  # each caller within its own two slots
                    tasks.start_soon(post_slowly, company)
                await until_open(http, capped, 3)
                refused = await http.post(f"{capped}/mcp", json=INITIALIZE, headers=headers("globex"))
                released.set()
            after = await http.post(f"{capped}/mcp", json=INITIALIZE, headers=headers("globex"))
            metrics = (await http.get(f"{capped}/metrics")).text

    assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
    assert refused.json() == {"error": "The server is at capacity: try again shortly."}
    assert (statuses, after.status_code) == ([200, 200, 200], 200)
    [counted] = [
        line
        for line in metrics.splitlines()
        if line.startswith("outlay_http_refused_total{") and 'reason="connections"' in line
    ]
    assert 'status="503"' in counted
