"""/mcp answers POST only: the server is stateless, so it never has anything to send a client unasked.

The SDK's legacy (2025-11-25) stateless transport still answers a GET with an SSE stream that stays open
until the client leaves, holding one of the caller's slots in flight all along (32 idle GETs locked a
caller out). MCP's streamable HTTP transport lets a server without such a stream answer 405 instead,
which clients take as "no stream here" (the SDK's own 2026-07-28 transport does the same); DELETE ends
a session, and there are none.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_BODY = b'{"error": "Method not allowed: this stateless server takes POST requests only on /mcp."}'


class PostOnly:
    """ASGI middleware: 405 with `Allow: POST` for any other method on /mcp, before any limit counts it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "POST" or not _is_mcp(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"allow", b"POST"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_BODY)).encode()),
        ]
        await send({"type": "http.response.start", "status": 405, "headers": headers})
        await send({"type": "http.response.body", "body": _BODY})


def _is_mcp(path: str) -> bool:
    return path == "/mcp" or path.startswith("/mcp/")
