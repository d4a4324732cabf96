"""Abuse limits on /mcp, per caller: a token bucket for the request rate, a few slots for requests in
flight (more wait their turn, briefly), and a cap on the request body; across callers, a cap on the
requests open at once, so that many callers each within their limits cannot exhaust the replica.

Mounted inside the SDK's authentication middleware, so a caller is the subject and company of a verified
token; a request without one is counted by client address (it will get its 401 anyway, but cheaply).
The rate and the slots are counted where the process's shared state lives (`server.shared`): in
process, or on Redis for every replica at once (falling back to this process's own counts while Redis
is away); the cap on open requests is always this replica's own. Every refusal is counted in metrics and
in the trail's per-minute tally (server/audit/refusals.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from opentelemetry import metrics
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.audit.refusals import RefusalTally
from server.http.scopes import replay
from server.settings.operations import RateLimitSettings
from server.shared.kinds import CallerLimits

_meter = metrics.get_meter("outlay.limits")
_refused = _meter.create_counter(
    "outlay.http.refused", "{request}", "Requests on /mcp refused by the abuse limits, by status and reason"
)
_open = _meter.create_up_down_counter(
    "outlay.http.open_requests", "{request}", "Requests on /mcp open now, across callers (capped)"
)


_NONE = CallerLimits(None, None)  # before the lifespan opened: nothing is served yet anyway


def caller_of(scope: Scope) -> tuple[str, str | None]:
    """(subject, company) of a verified token; ("address:<client address>", None) without one."""
    user = scope.get("user")
    if isinstance(user, AuthenticatedUser):
        token = user.access_token
        company = (token.claims or {}).get("company")
        return str(token.subject or token.client_id), None if company is None else str(company)
    client = scope.get("client")
    return f"address:{client[0] if client else '-'}", None


def caller_key(scope: Scope) -> str:
    subject, company = caller_of(scope)
    verified = isinstance(scope.get("user"), AuthenticatedUser)
    return f"token:{company or '-'}:{subject}" if verified else subject


class LimitsMiddleware:
    """ASGI middleware: 413 for an oversized body, 429 with Retry-After past a caller's rate or slots, 503
    with Retry-After past the requests open across callers."""

    def __init__(
        self,
        app: ASGIApp,
        settings: RateLimitSettings,
        limits: Callable[[], CallerLimits | None],
        tally: RefusalTally | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.limits = limits  # the lifespan's, once it is open
        self.tally = tally
        self.open = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/mcp"):
            await self.app(scope, receive, send)
            return
        # Counted from the first byte: a slow body holds a connection as surely as a slow call.
        cap = self.settings.max_connections
        if cap and self.open >= cap:
            message = "The server is at capacity: try again shortly."
            await self._refuse(scope, send, 503, message, 1.0, "connections")
            return
        self.open += 1
        _open.add(1)
        try:
            await self._per_caller(scope, receive, send)
        finally:
            self.open -= 1
            _open.add(-1)

    async def _per_caller(self, scope: Scope, receive: Receive, send: Send) -> None:
        announced = dict(scope["headers"]).get(b"content-length", b"0")
        too_long = announced.isdigit() and int(announced) > self.settings.max_body_bytes
        body = None if too_long else await _read_body(receive, self.settings.max_body_bytes)
        if body is None:
            message = f"Request body larger than {self.settings.max_body_bytes} bytes."
            await self._refuse(scope, send, 413, message, None, "body_size")
            return
        key, limits = caller_key(scope), self.limits() or _NONE
        if limits.rate is not None and (wait := await limits.rate.take(key)):
            await self._refuse(scope, send, 429, "Too many requests: slow down.", wait, "rate")
            return
        replayed = replay(body, receive)
        if limits.slots is None:
            await self.app(scope, replayed, send)
            return
        async with limits.slots.hold(key) as held:
            if held:
                await self.app(scope, replayed, send)
                return
        message = "Too many requests in flight for this caller."
        await self._refuse(scope, send, 429, message, 1.0, "concurrency")

    async def _refuse(
        self, scope: Scope, send: Send, status: int, message: str, retry_after: float | None, reason: str
    ) -> None:
        _refused.add(1, {"status": str(status), "reason": reason})
        if self.tally is not None:
            self.tally.count(*caller_of(scope), reason)
        headers = [(b"content-type", b"application/json")]
        if retry_after is not None:
            headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
        body = json.dumps({"error": message}).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, limit: int) -> list[Message] | None:
    """The request's body messages, or None once it exceeds `limit` (announced or actual length).
    Requests on /mcp are single JSON-RPC messages: holding one in memory costs nothing."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages
