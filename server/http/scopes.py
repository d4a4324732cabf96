"""Tools that write need `spend:write`: a caller without it does not see them in tools/list, and
calling one anyway is refused before any of our code runs.

Over HTTP the refusal is the MCP authorization spec's: 403 with `WWW-Authenticate: Bearer
error="insufficient_scope", scope="spend:write"`, so that a client can step up its token
(`refuse_write_calls_over_http`). Behind it, the server middleware (`protect_write_tools`) refuses the
call as a tool error too, whatever the transport. Local callers (stdio, in-memory) have every scope.

Every refusal is in the trail (`audit_events`, outcome `insufficient_scope`) with the caller's subject and
company and what it asked for: the gate writes the rows of the 403s, its own and the SDK's (a token
without `spend:read`), and a tool error here is noted as the call's outcome.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult, ListToolsResult, TextContent
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.audit import trail
from server.runtime import Runtime
from server.settings.auth import ALL_SCOPES, WRITE_SCOPE

log = logging.getLogger("outlay.scopes")
REFUSED = "insufficient_scope"  # the outcome of a refusal, in the trail and the log

# The SDK refuses bigger bodies with 413 anyway; past this the guard stops reading and lets it.
_MAX_PEEK_BYTES = 4 * 1024 * 1024


class WriteTools:
    """Names of the tools that are not annotated read-only (MCP's default for `readOnlyHint` is false,
    so a tool without annotations counts as writing). Read once: tools are registered at start-up."""

    def __init__(self, mcp: MCPServer[Any]) -> None:
        self._mcp = mcp
        self._names: frozenset[str] | None = None

    async def names(self) -> frozenset[str]:
        if self._names is None:
            tools = await self._mcp.list_tools()
            self._names = frozenset(
                tool.name for tool in tools if not (tool.annotations and tool.annotations.read_only_hint)
            )
        return self._names


def may_write() -> bool:
    token = get_access_token()
    return token is None or WRITE_SCOPE in token.scopes


def insufficient_scope_message(tool: str) -> str:
    return f"insufficient_scope: {tool} writes, and needs a token with the {WRITE_SCOPE} scope."


def protect_write_tools(mcp: MCPServer[Any], note_outcome: Callable[[str], None]) -> None:
    """Hide write tools from tools/list, and refuse calls to them, for callers without `spend:write`;
    `note_outcome` tells the call's audit row and metrics why it ended (`server.calls.note_outcome`)."""
    write_tools = WriteTools(mcp)

    async def guard(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method not in ("tools/list", "tools/call") or may_write():
            return await call_next(ctx)
        hidden = await write_tools.names()
        name = (ctx.params or {}).get("name")
        if ctx.method == "tools/call" and name in hidden:
            note_outcome(REFUSED)
            return CallToolResult(
                content=[TextContent(type="text", text=insufficient_scope_message(str(name)))], is_error=True
            )
        return _without_tools(await call_next(ctx), hidden)

    mcp.middleware.append(guard)


def _without_tools(result: HandlerResult, hidden: frozenset[str]) -> HandlerResult:
    # The SDK hands middleware the serialized result; a model is possible too.
    if isinstance(result, ListToolsResult):
        return result.model_copy(update={"tools": [tool for tool in result.tools if tool.name not in hidden]})
    if isinstance(result, dict) and isinstance(result.get("tools"), list):
        return {**result, "tools": [tool for tool in result["tools"] if tool.get("name") not in hidden]}
    return result


def refuse_write_calls_over_http(app: Starlette, mcp: MCPServer[Any], runtime: Runtime) -> None:
    """Mounts the 403 step-up answer inside the SDK's authentication (which sets the caller's scopes), and
    advertises every scope in the protected-resource metadata, where clients learn what to ask for."""
    auth = mcp.settings.auth
    if auth and auth.resource_server_url:
        _advertise_scopes(app, auth.resource_server_url, auth.issuer_url)
    metadata = (
        str(build_resource_metadata_url(auth.resource_server_url))
        if auth and auth.resource_server_url
        else None
    )
    required = frozenset(auth.required_scopes or []) if auth else frozenset()
    app.user_middleware.append(
        Middleware(
            WriteScopeGate,
            write_tools=WriteTools(mcp),
            resource_metadata_url=metadata,
            required_scopes=required,
            runtime=runtime,
        )
    )


def _advertise_scopes(app: Starlette, resource: AnyHttpUrl, issuer: AnyHttpUrl) -> None:
    # The SDK lists only the scopes every request needs (spend:read); a client would never learn to ask
    # for spend:write before its first 403.
    [metadata] = create_protected_resource_routes(
        resource, [issuer], scopes_supported=list(ALL_SCOPES), resource_name="Outlay"
    )
    routes = app.router.routes
    for index, route in enumerate(routes):
        if isinstance(route, Route) and route.path == metadata.path:
            routes[index] = metadata


class WriteScopeGate:
    """ASGI: a POST from a caller without `spend:write` is read first; if it calls a write tool, the
    answer is 403 `insufficient_scope`, otherwise the body is passed on unchanged. A caller without the
    scopes every request needs gets the SDK's 403 next; both are audited here, before the answer."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        write_tools: WriteTools,
        resource_metadata_url: str | None,
        required_scopes: frozenset[str] = frozenset(),
        runtime: Runtime | None = None,
    ) -> None:
        self.app = app
        self._write_tools = write_tools
        self._metadata_url = resource_metadata_url
        self._required = required_scopes
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not isinstance(user, AuthenticatedUser)  # no token: the SDK's 401 comes next
            or self._required | {WRITE_SCOPE} <= set(user.scopes)
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        messages, body = await _read_body(receive)
        if not self._required <= set(user.scopes):  # the SDK's 403 follows
            await self._audit(user, requests_in(body) or [("request", "-", {})], started)
            await self.app(scope, replay(messages, receive), send)
            return
        writes = await self._write_tools.names()
        refused = [request for request in requests_in(body) if request[0] == "tool" and request[1] in writes]
        if refused:
            company = (user.access_token.claims or {}).get("company", "-")
            tool = min(name for _, name, _ in refused)
            log.info("tool call refused", extra={"tool": tool, "company": company, "outcome": REFUSED})
            await self._audit(user, refused, started)
            await self._refuse(send, tool)
            return
        await self.app(scope, replay(messages, receive), send)

    async def _audit(
        self, user: AuthenticatedUser, refused: list[tuple[str, str, Mapping[str, Any]]], started: float
    ) -> None:
        app = self._runtime.current if self._runtime else None
        if app is None:
            return  # only before start-up or after shutdown, when no request is served
        token = user.access_token
        company = (token.claims or {}).get("company")
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        for request in refused:
            await trail.refused(
                app.sessions,
                subject=str(token.subject or token.client_id),
                company=None if company is None else str(company),
                request=request,
                outcome=REFUSED,
                latency_ms=latency_ms,
            )

    async def _refuse(self, send: Send, tool: str) -> None:
        challenge = ['error="insufficient_scope"', f'scope="{WRITE_SCOPE}"']
        challenge.append(f'error_description="{tool} needs the {WRITE_SCOPE} scope"')
        if self._metadata_url:
            challenge.append(f'resource_metadata="{self._metadata_url}"')
        body = json.dumps(
            {"error": "insufficient_scope", "error_description": insufficient_scope_message(tool)}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", ("Bearer " + ", ".join(challenge)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


def called_tools(body: bytes) -> set[str]:
    """The tools a JSON-RPC body calls (one message or a batch); nothing for anything unparsable, which
    the SDK refuses on its own (400, a JSON-RPC parse error). Read as the SDK's 2026-07-28 transport reads
    it (`json.loads`, nesting past its limit a RecursionError), which takes more than its legacy one
    (`pydantic_core.from_json` stops at 200 levels and reads only UTF-8): a write call either would run
    is answered 403 here."""
    return {name for kind, name, _ in requests_in(body) if kind == "tool"}


_CALLS = {
    "tools/call": ("tool", "name"),
    "resources/read": ("resource", "uri"),
    "prompts/get": ("prompt", "name"),
}


def requests_in(body: bytes) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(kind, name, arguments) of each JSON-RPC message in a body, as the trail names them: a tool, a
    resource or a prompt, any other method as a `request` named by its method; [] when unparsable."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return []
    messages: Iterable[Any] = payload if isinstance(payload, list) else [payload]
    return [_request(message) for message in messages if isinstance(message, dict)]


def _request(message: dict[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    method = str(message.get("method", "-"))
    params = message.get("params")
    call = _CALLS.get(method)
    if call is None or not isinstance(params, dict) or call[1] not in params:
        return "request", method, {}
    kind, key = call
    if kind == "resource":
        return kind, str(params[key]), {"uri": params[key]}
    arguments = params.get("arguments")
    return kind, str(params[key]), arguments if isinstance(arguments, dict) else {}


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    body = b""
    while len(body) <= _MAX_PEEK_BYTES:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return messages, body


def replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that first hands back the messages already read from it."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
