"""Fail closed for writes: while Redis, once configured, does not answer, a replica cannot count a
caller against its shared limits and budgets; reads go on with this process's own counts, but a tool
that writes is refused, as a tool error an agent can act on (outcome `unavailable`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult, TextContent

from server.context import AppContext
from server.http.scopes import WriteTools

PAUSED = (
    "Writes are paused: this server cannot reach the shared store (Redis) that holds every replica's "
    "limits and budgets, so it cannot count this change against them. Read tools still work; retry "
    "the write shortly."
)


def pause_writes_while_unshared(mcp: MCPServer[AppContext], note_outcome: Callable[[str], None]) -> None:
    """Refuse calls to write tools while the shared state is unreachable (`SharedState.writable`)."""
    write_tools = WriteTools(mcp)

    async def guard(ctx: ServerRequestContext[AppContext, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call" or (ctx.params or {}).get("name") not in await write_tools.names():
            return await call_next(ctx)
        if await ctx.lifespan_context.shared.writable():
            return await call_next(ctx)
        note_outcome("unavailable")
        return CallToolResult(content=[TextContent(type="text", text=PAUSED)], is_error=True)

    mcp.middleware.append(guard)
