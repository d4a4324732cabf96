"""Read-only tool calls that meet the database away are tried again for a while; writes never are."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from mcp.server import MCPServer
from mcp_types import CallToolResult, TextContent

from server.context import AppContext
from server.db.availability import RETRY_MESSAGE, RetryWhenUnavailable

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
