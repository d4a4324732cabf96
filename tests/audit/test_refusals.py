"""Refused requests are in the trail, over real HTTP: each scope refusal as a row with who, which
company, what and why; the abuse limits' refusals as one row per caller, limit and minute with their
count (written when the minute closes, and when the server stops), never one per refused request."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import MCPError

from server.audit.refusals import RefusalTally, write
from server.audit.trail import arguments_digest
from server.db.engine import create_engine, create_session_factory
from server.http.auth import token_digest
from tests.auth.test_oauth_http import call_tool
from tests.transports.conftest import TOKENS, http_client, server_env, start_http_server, start_server
from tests.transports.test_http import INITIALIZE, MCP_HEADERS
from tests.world import raw

pytestmark = pytest.mark.anyio

KEYS = {
    "read-only": {"company": "globex", "scopes": ["spend:read"]},
    "admin-only": {"company": "acme", "scopes": ["spend:admin"]},
}
LIMIT_ROWS = (
    "SELECT subject, company, name, outcome, count FROM audit_events WHERE kind = 'limit' ORDER BY id"
)


def subject(key: str) -> str:
    return f"api-key:{token_digest(key)[:12]}"


def post(url: str, key: str, body: dict[str, Any] | bytes) -> httpx2.Response:
    headers = MCP_HEADERS | {"Authorization": f"Bearer {key}", "MCP-Protocol-Version": "2025-11-25"}
    if isinstance(body, bytes):
        return httpx2.post(f"{url}/mcp", content=body, headers=headers, timeout=30)
    return httpx2.post(f"{url}/mcp", json=body, headers=headers, timeout=30)


@pytest.fixture
def server(world_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    env = server_env(world_url, OUTLAY_API_KEYS=json.dumps(KEYS))
    process, url = start_http_server(tmp_path / "server.log", env)
    yield url, process
    process.terminate()
    process.wait(timeout=30)


async def test_every_scope_refusal_is_audited_with_subject_company_tool_and_reason(
    server: tuple[str, subprocess.Popen[bytes]], world_url: str
) -> None:
    url, _ = server
    async with http_client(url, "read-only") as client:
        with pytest.raises(MCPError):
            await client.call_tool("categorize_expenses", {"apply": True})
    arguments = {"expense_id": "EXP-000001", "category": "HARDWARE"}
    written = post(url, "read-only", call_tool("recategorize_expense", arguments))
    unread = post(url, "admin-only", call_tool("search_expenses", {"limit": 1}))

    assert (written.status_code, unread.status_code) == (403, 403)
    rows = await raw(
        world_url,
        "SELECT subject, company, kind, name, outcome, arguments_sha256, count, call_id FROM audit_events "
        "ORDER BY id",
    )
    assert rows == [
        (
            subject("read-only"),
            "globex",
            "tool",
            "categorize_expenses",
            "insufficient_scope",
            arguments_digest({"apply": True}),
            1,
            None,
        ),
        (
            subject("read-only"),
            "globex",
            "tool",
            "recategorize_expense",
            "insufficient_scope",
            arguments_digest(arguments),
            1,
            None,
        ),
        (
            subject("admin-only"),
            "acme",
            "tool",
            "search_expenses",
            "insufficient_scope",
            arguments_digest({"limit": 1}),
            1,
            None,
        ),
    ]


async def test_limit_refusals_are_one_row_per_caller_limit_and_minute_written_when_the_server_stops(
    world_url: str, tmp_path: Path
) -> None:
    oversized = json.dumps(call_tool("search_expenses", {"text": "x" * 5000})).encode()
    process, url = start_server(
        world_url,
        tmp_path / "server.log",
        OUTLAY_RATE_LIMIT__REQUESTS_PER_SECOND="0.01",
        OUTLAY_RATE_LIMIT__BURST="2",
        OUTLAY_RATE_LIMIT__MAX_BODY_BYTES="4096",
    )
    try:
        rated = [post(url, TOKENS["acme"], INITIALIZE).status_code for _ in range(6)]
        sized = [post(url, TOKENS["globex"], oversized).status_code for _ in range(3)]
        assert await raw(world_url, LIMIT_ROWS) == []  # counted in memory until the minute closes
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert (rated, sized) == ([200, 200, 429, 429, 429, 429], [413] * 3)
    rows = await raw(world_url, LIMIT_ROWS)
    counted: dict[tuple[str, str, str, str], int] = {}
    for found_subject, company, limit, outcome, count in rows:
        counted[found_subject, company, limit, outcome] = (
            counted.get((found_subject, company, limit, outcome), 0) + count
        )
    assert counted == {
        (subject(TOKENS["acme"]), "acme", "rate", "refused"): 4,
        (subject(TOKENS["globex"]), "globex", "body_size", "refused"): 3,
    }
    assert len(rows) <= 4  # two callers, the test perhaps straddling a minute


async def test_each_minute_is_written_once_it_has_closed(database_url: str) -> None:
    now = [120.5]  # in the epoch's third minute
    tally = RefusalTally(clock=lambda: now[0])
    for _ in range(3):
        tally.count("alice", "acme", "rate")
    tally.count("address:10.0.0.9", None, "body_size")
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        now[0] = 179.9
        assert tally.closed() == []
        now[0] = 180.0
        await write(sessions, tally.closed())
        tally.count("alice", "acme", "rate")
        await write(sessions, tally.remaining())
    finally:
        await engine.dispose()

    rows = await raw(
        database_url,
        "SELECT subject, company, name, outcome, count, latency_ms FROM audit_events ORDER BY id",
    )
    assert rows == [
        ("alice", "acme", "rate", "refused", 3, 0.0),
        ("address:10.0.0.9", None, "body_size", "refused", 1, 0.0),
        ("alice", "acme", "rate", "refused", 1, 0.0),
    ]
    minutes = await raw(database_url, "SELECT at FROM audit_events ORDER BY id")
    # The minute's start (SQLite hands the text back, PostgreSQL a datetime).
    assert [str(at)[:16] for (at,) in minutes] == ["1970-01-01 00:02", "1970-01-01 00:02", "1970-01-01 00:03"]
