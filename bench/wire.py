"""A light load generator for streamable HTTP: each client is one keep-alive HTTP/1.1 connection posting
`tools/call` JSON-RPC requests (the headers an MCP client sends, bodies encoded once) and reading each
answer before the next. The SDK's `Client` spends more CPU per call than the server does; on a 2-core
machine it would measure itself. The server is stateless (server/http/serve.py): no session to set up first.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

PROTOCOL_VERSION = "2025-11-25"


@dataclass
class WireTally:
    timings: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def requests(url: str, token: str, tool: str, arguments: Sequence[dict[str, Any]]) -> list[bytes]:
    """One encoded HTTP request per argument set."""
    parts = urlsplit(url)
    encoded = []
    for index, args in enumerate(arguments):
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": index,
                "method": "tools/call",
                "params": {"name": tool, "arguments": args},
            }
        ).encode()
        head = (
            f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: {PROTOCOL_VERSION}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        encoded.append(head.encode() + body)
    return encoded


async def call_until(url: str, encoded: list[bytes], offset: int, deadline: float, tally: WireTally) -> None:
    """One client: calls back to back on one connection until `deadline` (time.monotonic)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        for request in itertools.islice(itertools.cycle(encoded), offset, None):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            writer.write(request)
            status, body = await _response(reader)
            tally.timings.append((time.perf_counter() - started) * 1000)
            if status != 200 or b'"isError":true' in body or b'"error":' in body[:40]:
                tally.errors.append(f"HTTP {status}: {body[:200].decode(errors='replace')}")
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = next(
        (int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length:")), 0
    )
    return status, await reader.readexactly(length)
