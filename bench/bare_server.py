"""The reference for the price of our layers: a bare `mcp` server, one tool per question, each running the
statements our tool runs for that question (`Question.floor_statements`) through an asyncpg pool and
returning the last statement's rows. No tenancy, audit, argument checks, ORM or logic of ours: what is
left is the SDK, the transport, the driver and the SQL, the same as ours pays for them.

    python -m bench.bare_server DATABASE_URL QUESTIONS_JSON

QUESTIONS_JSON: a file holding `{"tool name": ["statement", ...], ...}` (bench/side_by_side.py writes it).

    python -m bench.bare_server DATABASE_URL QUESTIONS_JSON --like-generic

The floor of the Python SDK against the generic Node server (`@modelcontextprotocol/server-postgres`):
each tool runs its one statement as that server does (BEGIN TRANSACTION READ ONLY, the statement,
ROLLBACK, on a pooled connection) and answers as it does, the rows as one JSON text block, no
structured content and no output schema.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent

Scalar = str | int | float | bool | None
Answer = dict[str, list[dict[str, Scalar]]]


def _plain(value: Any) -> Scalar:
    if isinstance(value, Decimal | dt.date | dt.datetime):
        return str(value)
    return value  # type: ignore[no-any-return]  # asyncpg's ints, strings, floats, bools, None


def build(
    database_url: str, statements: dict[str, list[str]], *, like_generic: bool = False
) -> MCPServer[asyncpg.Pool]:
    @asynccontextmanager
    async def lifespan(_: MCPServer[asyncpg.Pool]) -> AsyncIterator[asyncpg.Pool]:
        async with asyncpg.create_pool(database_url, min_size=1, max_size=4) as pool:
            yield pool

    server: MCPServer[asyncpg.Pool] = MCPServer("bare", lifespan=lifespan)

    def tool(sql: list[str]) -> Callable[[Context[asyncpg.Pool]], Awaitable[Answer]]:
        async def run(ctx: Context[asyncpg.Pool]) -> Answer:
            async with ctx.request_context.lifespan_context.acquire() as connection:
                records: list[asyncpg.Record] = []
                for statement in sql:
                    records = await connection.fetch(statement)
            return {"rows": [{key: _plain(value) for key, value in record.items()} for record in records]}

        return run

    def generic(sql: list[str]) -> Callable[[Context[asyncpg.Pool]], Awaitable[CallToolResult]]:
        [statement] = sql

        async def run(ctx: Context[asyncpg.Pool]) -> CallToolResult:
            async with ctx.request_context.lifespan_context.acquire() as connection:
                await connection.execute("BEGIN TRANSACTION READ ONLY")
                try:
                    records = await connection.fetch(statement)
                finally:
                    await connection.execute("ROLLBACK")
            rows = [{key: _plain(value) for key, value in record.items()} for record in records]
            return CallToolResult(content=[TextContent(type="text", text=json.dumps(rows, indent=2))])

        return run

    for name, sql in statements.items():
        server.add_tool(generic(sql) if like_generic else tool(sql), name=name)
    return server


def main(argv: list[str]) -> None:
    like_generic = "--like-generic" in argv
    database_url, questions = [arg for arg in argv if arg != "--like-generic"]
    build(database_url, json.loads(Path(questions).read_text()), like_generic=like_generic).run()


if __name__ == "__main__":
    main(sys.argv[1:])
