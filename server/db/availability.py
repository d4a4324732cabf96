"""The database going away mid-call: a clear, retryable message instead of a driver traceback."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult

from server.errors import OutlayError
from server.http.scopes import WriteTools

RETRY_MESSAGE = "The database is temporarily unavailable; retry shortly."

# asyncpg's connection-level failures (server shut down, starting up, connection lost), by class name
# so that SQLite-only installs need not import asyncpg.
_CONNECTION_ERRORS = {
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "CannotConnectNowError",
    "AdminShutdownError",
    "CrashShutdownError",
    "InterfaceError",
    "InternalClientError",
    "PostgresConnectionError",
    "TooManyConnectionsError",
}


class DatabaseUnavailable(OutlayError):
    def __init__(self) -> None:
        super().__init__(RETRY_MESSAGE)


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that say the database cannot be reached now, not that the query was wrong."""
    from sqlalchemy.exc import DBAPIError, OperationalError  # loaded with the first call (see server.context)

    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if (
            isinstance(current, ConnectionError | TimeoutError)
            or type(current).__name__ in _CONNECTION_ERRORS
        ):
            return True
        current = current.__cause__ or current.__context__
    return isinstance(exc, OperationalError) and "could not connect" in str(exc).lower()


class RetryWhenUnavailable:
    """Server middleware: a read-only tool call that found the database away is tried again for a few
    seconds before its caller hears about it, so that a PostgreSQL restart or failover (usually under a
    second or two) is a slower answer rather than an error. The seconds count from the first failure, not
    from the start of the call: a slow call that meets a restart late gets the same chance as a quick
    one. Writes are not retried: a connection lost during COMMIT leaves it unknown whether the write
    happened, and the caller must decide."""

    def __init__(self, mcp: MCPServer[Any], budget: float = 3.0, pause: float = 0.5) -> None:
        self._write_tools = WriteTools(mcp)
        self._budget = budget
        self._pause = pause

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        name = (ctx.params or {}).get("name")
        if ctx.method != "tools/call" or name in await self._write_tools.names():
            return await call_next(ctx)
        deadline: float | None = None
        while True:
            result = await call_next(ctx)
            if not says_unavailable(result):
                return result
            deadline = time.monotonic() + self._budget if deadline is None else deadline
            if time.monotonic() + self._pause > deadline:
                return result
            await anyio.sleep(self._pause)


def retry_reads(
    mcp: MCPServer[Any], budget: float, *, before: Callable[..., Any], pause: float = 0.5
) -> None:
    """Install `RetryWhenUnavailable` right outside the middleware `before` (the call's own log line,
    audit and metrics then count each attempt)."""
    mcp.middleware.insert(mcp.middleware.index(before), RetryWhenUnavailable(mcp, budget, pause))


def says_unavailable(result: HandlerResult) -> bool:
    if isinstance(result, CallToolResult):
        error, content = bool(result.is_error), [block.model_dump() for block in result.content]
    elif isinstance(result, Mapping):
        error, content = bool(result.get("isError")), list(result.get("content") or [])
    else:
        return False
    return error and any(str(block.get("text", "")).endswith(RETRY_MESSAGE) for block in content)
