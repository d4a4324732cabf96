"""A tool call's statements are cancelled after OUTLAY_STATEMENT_TIMEOUT_MS (PostgreSQL): the caller reads
a plain tool error, the server goes on serving, and the audit trail says it timed out."""

# No `from __future__ import annotations`: the SDK evaluates the probe tool's signature.
import pytest
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from sqlalchemy import text

from server.app import build_server
from server.calls import tool_call
from server.context import AppContext
from server.settings import Settings
from tests.world import TODAY, call_error, call_ok, connect, raw

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("seeded_url", ["postgresql"], indirect=True)]


async def sleep(ctx: Context[AppContext], seconds: float) -> str:
    """Stands for a heavy query."""
    async with tool_call(ctx, "sleep") as call:
        await call.session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
    return "slept"


def server(url: str, timeout_ms: int) -> MCPServer[AppContext]:
    settings = Settings(database_url=url, company="acme", today=TODAY, statement_timeout_ms=timeout_ms)
    built = build_server(settings, local_company="acme")
    built.tool()(sleep)
    return built


async def test_a_statement_past_the_timeout_becomes_a_plain_tool_error(seeded_url: str) -> None:
    async with connect(server(seeded_url, timeout_ms=100), "auto") as client:
        message = await call_error(client, "sleep", {"seconds": 2})
        assert message.endswith("The query took too long and was stopped; narrow the period or the filters.")
        assert (await call_ok(client, "sleep", {"seconds": 0.01})) == {"result": "slept"}

    outcomes = await raw(seeded_url, "SELECT outcome FROM audit_events WHERE name = 'sleep' ORDER BY id")
    assert outcomes == [("timeout",), ("ok",)]
