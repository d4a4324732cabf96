"""Read-only tool calls that meet the database away are tried again for a while; writes never are."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from mcp.server import MCPServer
from mcp_types import CallToolResult, TextContent
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.app import build_server
from server.calls import observe_request
from server.context import AppContext
from server.db.availability import RETRY_MESSAGE, RetryWhenUnavailable, retry_reads
from server.settings import Settings
from tests.world import call_ok, connect

pytestmark = pytest.mark.anyio

UNAVAILABLE = CallToolResult(
    content=[TextContent(type="text", text=f"Error executing tool x: {RETRY_MESSAGE}")]
)
UNAVAILABLE.is_error = True
OK = CallToolResult(content=[TextContent(type="text", text="fine")])


def _answers(*results: CallToolResult) -> tuple[list[int], Callable[[Any], Any]]:
    calls: list[int] = []

    async def call_next(_: Any) -> CallToolResult:
        calls.append(1)
        return results[min(len(calls), len(results)) - 1]

    return calls, call_next


async def test_a_read_is_retried_until_the_database_answers(
    servers: Callable[[str, str], MCPServer[AppContext]], seeded_url: str
) -> None:
    retry = RetryWhenUnavailable(servers(seeded_url, "acme"), budget=1.0, pause=0.01)
    calls, call_next = _answers(UNAVAILABLE, UNAVAILABLE, OK)
    ctx = SimpleNamespace(method="tools/call", params={"name": "search_expenses"})

    assert await retry(ctx, call_next) is OK  # type: ignore[arg-type]
    assert len(calls) == 3


async def test_a_write_or_a_read_past_the_budget_answers_unavailable(
    servers: Callable[[str, str], MCPServer[AppContext]], seeded_url: str
) -> None:
    retry = RetryWhenUnavailable(servers(seeded_url, "acme"), budget=0.05, pause=0.02)
    writes, write_next = _answers(UNAVAILABLE, OK)
    reads, read_next = _answers(UNAVAILABLE)

    write = SimpleNamespace(method="tools/call", params={"name": "categorize_expenses"})
    read = SimpleNamespace(method="tools/call", params={"name": "get_expense"})

    assert await retry(write, write_next) is UNAVAILABLE  # type: ignore[arg-type]
    assert await retry(read, read_next) is UNAVAILABLE  # type: ignore[arg-type]
    assert (len(writes), 2 <= len(reads) <= 4) == (1, True)


class LateFault:
    """A read that is slow and then loses its connection: the first SELECT of `expenses` stalls for
    `stall` seconds, then fails as a dropped connection does; every later statement runs as usual."""

    def __init__(self, stall: float) -> None:
        self.stall = stall
        self.fired = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.fired or not statement.lstrip().upper().startswith("SELECT") or "expenses" not in statement:
            return
        self.fired += 1
        time.sleep(self.stall)  # the call is slow on its own, past the whole retry budget
        raise ConnectionResetError("connection reset by peer")


async def test_a_slow_read_that_meets_an_outage_late_is_still_retried(seeded_url: str) -> None:
    settings = Settings(database_url=seeded_url, company="acme", read_retry_seconds=0.3)
    mcp = build_server(settings, local_company="acme")
    retry_reads(mcp, settings.read_retry_budget, before=observe_request, pause=0.01)
    fault = LateFault(stall=0.5)
    event.listen(Engine, "before_cursor_execute", fault)
    try:
        async with connect(mcp, "auto") as client:
            page = await call_ok(client, "search_expenses", {"limit": 2})
    finally:
        event.remove(Engine, "before_cursor_execute", fault)

    assert fault.fired == 1  # the first attempt met the outage, 0.5 s into a 0.3 s budget
    assert len(page["items"]) == 2  # and the retry answered


def test_the_retry_budget_never_outlasts_the_statement_timeout() -> None:
    assert Settings(read_retry_seconds=3, statement_timeout_ms=5000).read_retry_budget == 3
    assert Settings(read_retry_seconds=3, statement_timeout_ms=800).read_retry_budget == 0.8
    assert Settings(read_retry_seconds=3, statement_timeout_ms=0).read_retry_budget == 3
