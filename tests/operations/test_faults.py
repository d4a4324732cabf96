"""The database goes away in the middle of a burst of calls and comes back: calls during the outage get
a clear "temporarily unavailable" tool error (or succeed), never a 5xx or a traceback; /readyz says 503
while it is down; the server answers again by itself, and writes are whole or absent. Also, on the same
private cluster, what needs a call held in flight (a table lock): draining on SIGTERM, a caller's slots."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx2
import pytest
from mcp_types import TextContent

from server.db.availability import RETRY_MESSAGE
from server.db.migrate import upgrade
from tests.operations.postgres import PrivateCluster, available
from tests.transports.conftest import OUTLAY, TOKENS, http_client, server_env, start_server
from tests.transports.test_http import MCP_HEADERS
from tests.world import seed_world

PROTOCOL = "2025-11-25"
READS: list[tuple[str, dict[str, Any]]] = [
    ("search_expenses", {"limit": 5}),
    ("summarize_spend", {"group_by": "month", "period": "2026"}),
    ("suggest_approver", {"request_id": "APR-0001"}),
]
WRITE = ("categorize_expenses", {"apply": True, "limit": 1})  # one expense a call: many writes


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    if not available():
        pytest.skip("no PostgreSQL binaries to run a private cluster")
    created = PrivateCluster.create()
    yield created
    created.destroy()


async def _create_database(cluster: PrivateCluster, name: str) -> None:
    connection = await asyncpg.connect(
        host="127.0.0.1", port=cluster.port, user="postgres", database="postgres"
    )
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


class Burst:
    """Workers calling in a loop until told to stop; every outcome counted."""

    def __init__(self, url: str, writer_url: str) -> None:
        self.url, self.writer_url = url, writer_url
        self.applied = 0  # categories the write calls said they wrote
        self.outcomes: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.running = True

    async def worker(self, index: int) -> None:
        calls, url = ([WRITE], self.writer_url) if index == 0 else (READS, self.url)
        async with http_client(url, TOKENS["acme"]) as client:
            turn = 0
            while self.running:
                tool, arguments = calls[turn % len(calls)]
                turn += 1
                try:
                    result = await client.call_tool(tool, arguments)
                except Exception as exc:  # a transport failure: what the test is about
                    self.outcomes["exception"] += 1
                    self.unexpected.append(f"{tool}: {type(exc).__name__}: {exc}")
                    await anyio.sleep(0.05)
                    continue
                text = result.content[0].text if isinstance(result.content[0], TextContent) else ""
                if not result.is_error:
                    self.outcomes["ok"] += 1
                    self.applied += int((result.structured_content or {}).get("applied", 0))
                elif text.endswith(RETRY_MESSAGE):  # after the SDK's 'Error executing tool X: '
                    self.outcomes["unavailable"] += 1
                    await anyio.sleep(0.05)
                else:
                    self.outcomes["other_error"] += 1
                    self.unexpected.append(f"{tool}: {text}")


async def _ready(url: str) -> int:
    async with httpx2.AsyncClient(timeout=5) as http:
        return (await http.get(f"{url}/readyz")).status_code


async def _restart_during_burst(
    url: str, writer_url: str, cluster: PrivateCluster
) -> tuple[Burst, list[int], float]:
    burst = Burst(url, writer_url)
    readiness: list[int] = []
    async with anyio.create_task_group() as tasks:
        for index in range(12):
            tasks.start_soon(burst.worker, index)
        await anyio.sleep(1.5)
        readiness.append(await _ready(url))
        await anyio.to_thread.run_sync(cluster.stop)
        down_until = time.monotonic() + 4.0  # longer than reads are retried (3 s): the outage shows
        while time.monotonic() < down_until:
            readiness.append(await _ready(url))
            await anyio.sleep(0.2)
        await anyio.to_thread.run_sync(cluster.start)
        restarted = time.monotonic()
        while (status := await _ready(url)) != 200 and time.monotonic() - restarted < 15:
            readiness.append(status)
            await anyio.sleep(0.1)
        readiness.append(status)
        recovered_after = time.monotonic() - restarted
        before = burst.outcomes["ok"]
        await anyio.sleep(1.5)
        assert burst.outcomes["ok"] > before, "no call succeeded after the database came back"
        burst.running = False
    return burst, readiness, recovered_after


async def _categories(url: str) -> tuple[int, int]:
    """Expenses with a category, and those whose category is not of their company (a torn write)."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        categorized = await connection.fetchval("SELECT count(*) FROM expenses WHERE category_id IS NOT NULL")
        torn = await connection.fetchval(
            "SELECT count(*) FROM expenses e LEFT JOIN categories c ON c.id = e.category_id "
            "WHERE e.category_id IS NOT NULL AND (c.id IS NULL OR c.company_id <> e.company_id)"
        )
    finally:
        await connection.close()
    return int(categorized), int(torn)


@pytest.fixture(scope="module")
def seeded(cluster: PrivateCluster) -> str:
    asyncio.run(_create_database(cluster, "outlay"))
    url = cluster.url("outlay")
    upgrade(url)
    asyncio.run(seed_world(url))
    return url


@pytest.fixture(scope="module")
def demo(cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small demo company with a trained categorizer and an uncategorized backlog, for real writes."""
    asyncio.run(_create_database(cluster, "outlay_demo"))
    url = cluster.url("outlay_demo")
    env = server_env(url)
    folder = str(tmp_path_factory.mktemp("demo"))
    subprocess.run([OUTLAY, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    demo = [OUTLAY, "demo", "--employees", "20", "--months", "6", "--out", folder]
    subprocess.run(demo, env=env, check=True, capture_output=True, timeout=300)
    return url


@pytest.mark.anyio
async def test_a_postgresql_restart_during_a_burst_gives_clear_errors_and_recovers(
    cluster: PrivateCluster, seeded: str, demo: str, tmp_path: Path
) -> None:
    log, writer_log = tmp_path / "server.log", tmp_path / "writer.log"
    process, base = await anyio.to_thread.run_sync(start_server, seeded, log)
    writer, writer_base = await anyio.to_thread.run_sync(start_server, demo, writer_log)
    categorized_before, _ = await _categories(demo)
    try:
        burst, readiness, recovered_after = await _restart_during_burst(base, writer_base, cluster)
    finally:
        for server in (process, writer):
            server.terminate()
            await anyio.to_thread.run_sync(lambda: server.wait(timeout=30))  # noqa: B023 - awaited here

    print(burst.outcomes, readiness, f"recovered after {recovered_after:.2f} s")
    assert burst.unexpected == [], burst.unexpected[:5]
    assert burst.outcomes["unavailable"] > 0, burst.outcomes  # the outage was seen, and said clearly
    assert burst.outcomes["ok"] > 0
    assert readiness[0] == 200
    assert 503 in readiness
    assert readiness[-1] == 200
    assert recovered_after < 5
    # Calls answer the clear error and log one line; only a lost audit row is logged with its traceback.
    lines = [*log.read_text().splitlines(), *writer_log.read_text().splitlines()]
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    crashes = [entry for entry in entries if "exc" in entry and entry["logger"] != "outlay.audit"]
    assert crashes == [], crashes[:3]
    assert any(entry.get("outcome") == "unavailable" for entry in entries)
    # Every category written was reported by a call that succeeded, and only those: a call cut by the
    # outage wrote nothing (its transaction rolled back), none wrote half.
    categorized_after, torn = await _categories(demo)
    assert burst.applied > 0
    assert (categorized_after - categorized_before, torn) == (burst.applied, 0)


async def _call_across_sigterm(url: str, database: str, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    """A call waits on a table lock; SIGTERM arrives; the lock goes: the call still gets its answer."""
    blocker = await asyncpg.connect(database.replace("+asyncpg", ""))
    headers = MCP_HEADERS | {
        "Authorization": f"Bearer {TOKENS['acme']}",
        "MCP-Protocol-Version": "2025-11-25",
    }
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "search_expenses"}}
    answers: list[dict[str, Any]] = []
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE expenses IN ACCESS EXCLUSIVE MODE")
        async with httpx2.AsyncClient(timeout=30) as http, anyio.create_task_group() as tasks:

            async def post() -> None:
                answers.append((await http.post(f"{url}/mcp", json=call, headers=headers)).json())

            tasks.start_soon(post)
            await anyio.sleep(1.0)  # the call is in flight, waiting on the lock
            process.send_signal(signal.SIGTERM)
            await anyio.sleep(1.0)
            assert process.poll() is None, "the server quit with a call in flight"
            await transaction.rollback()
    finally:
        await blocker.close()
    [answer] = answers
    return answer


@pytest.mark.anyio
async def test_sigterm_lets_the_call_in_flight_finish_then_exits(seeded: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    process, base = await anyio.to_thread.run_sync(
        lambda: start_server(seeded, log, OUTLAY_SHUTDOWN_GRACE_SECONDS="20")
    )
    try:
        answer = await _call_across_sigterm(base, seeded, process)
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert await anyio.to_thread.run_sync(lambda: process.wait(timeout=20)) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
    assert answer["result"]["isError"] is False, answer
    assert answer["result"]["structuredContent"]["items"]


@pytest.mark.anyio
async def test_a_caller_beyond_its_slots_gets_429_while_another_caller_is_served(
    seeded: str, tmp_path: Path
) -> None:
    limits = {"OUTLAY_RATE_LIMIT__CONCURRENCY": "1", "OUTLAY_RATE_LIMIT__QUEUE_SECONDS": "0.3"}
    process, base = await anyio.to_thread.run_sync(
        lambda: start_server(seeded, tmp_path / "server.log", **limits)
    )
    blocker = await asyncpg.connect(seeded.replace("+asyncpg", ""))

    def headers(company: str) -> dict[str, str]:
        return MCP_HEADERS | {"Authorization": f"Bearer {TOKENS[company]}", "MCP-Protocol-Version": PROTOCOL}

    call = {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "search_expenses"}}
    listing = {"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {}}
    statuses: dict[str, int] = {}
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE expenses IN ACCESS EXCLUSIVE MODE")
        async with httpx2.AsyncClient(timeout=30) as http, anyio.create_task_group() as tasks:

            async def held() -> None:  # acme's one slot, waiting on the lock
                statuses["held"] = (
                    await http.post(f"{base}/mcp", json=call, headers=headers("acme"))
                ).status_code

            tasks.start_soon(held)
            await anyio.sleep(1.0)
            second = await http.post(f"{base}/mcp", json=listing, headers=headers("acme"))
            other = await http.post(f"{base}/mcp", json=listing, headers=headers("globex"))
            statuses |= {"second": second.status_code, "other": other.status_code}
            statuses["retry_after"] = int(second.headers.get("retry-after", 0))
            await transaction.rollback()
    finally:
        await blocker.close()
        process.terminate()
        await anyio.to_thread.run_sync(lambda: process.wait(timeout=30))

    assert statuses == {"held": 200, "second": 429, "other": 200, "retry_after": 1}
