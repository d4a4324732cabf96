"""Streamable HTTP serving: the MCP endpoint at /mcp (POST only, behind per-caller limits and a cap on
open requests) plus unauthenticated /healthz, /readyz and /metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import uvicorn
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared._otel import extract_trace_context
from opentelemetry import context as otel_context
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.audit.refusals import RefusalTally, keep_writing, write
from server.calls import observe_request
from server.context import AppContext
from server.db.availability import retry_reads
from server.http.limits import LimitsMiddleware
from server.http.scopes import refuse_write_calls_over_http
from server.http.stateless import PostOnly
from server.runtime import Runtime
from server.telemetry.exporters import (
    PROMETHEUS_CONTENT_TYPE,
    Telemetry,
    install_telemetry,
    trace_context_from_headers,
    watch_pool,
)

log = logging.getLogger("outlay.http")


Handler = Callable[[Request], Awaitable[Response]]


def _route(mcp: MCPServer[AppContext], path: str) -> Callable[[Handler], Handler]:
    # The SDK's decorator is untyped; its contract is exactly this.
    return cast(
        Callable[[Handler], Handler], mcp.custom_route(path, methods=["GET"], include_in_schema=False)
    )


def add_health_routes(mcp: MCPServer[AppContext], runtime: Runtime) -> None:
    """/healthz: the process answers. /readyz: it can reach its database (for load balancers), the
    state of each model backend's circuit, and where the shared state lives and whether it answers —
    both informative only: without models the tools still answer, degraded, and without Redis the reads
    still answer (writes are refused), so neither takes the replica out of rotation."""

    @_route(mcp, "/healthz")
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @_route(mcp, "/readyz")
    async def readyz(_: Request) -> Response:
        app = runtime.current
        if app is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        try:
            async with app.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readiness check failed", extra={"error": type(exc).__name__})
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        shared = await app.shared.status()
        return JSONResponse(
            {"status": "ready", "database": "ok", "models": app.gateway.status(), "shared_state": shared}
        )


def add_metrics_route(mcp: MCPServer[AppContext], telemetry: Telemetry) -> None:
    """Prometheus scrapes /metrics without a token: keep the port off the public ingress."""

    @_route(mcp, "/metrics")
    async def metrics(_: Request) -> Response:
        return Response(telemetry.metrics_text(), media_type=PROMETHEUS_CONTENT_TYPE)


async def trace_from_headers(
    ctx: ServerRequestContext[AppContext, Any], call_next: CallNext
) -> HandlerResult:
    """Outermost server middleware: a `traceparent` HTTP header parents the SDK's span for the request
    unless the message's `_meta` names its own (the SDK reads that one)."""
    parent = None
    if extract_trace_context(ctx.meta) is None:
        parent = trace_context_from_headers(getattr(ctx.request, "headers", None))
    if parent is None:
        return await call_next(ctx)
    token = otel_context.attach(parent)
    try:
        return await call_next(ctx)
    finally:
        otel_context.detach(token)


def http_app(mcp: MCPServer[AppContext], runtime: Runtime) -> Starlette:
    settings = runtime.settings
    telemetry = install_telemetry(settings.otel)
    watch_pool(lambda: runtime.current.database.opened if runtime.current else None)
    add_health_routes(mcp, runtime)
    add_metrics_route(mcp, telemetry)
    mcp.middleware.insert(0, trace_from_headers)
    retry_reads(mcp, settings.read_retry_budget, before=observe_request)
    # Stateless + JSON responses: any replica can answer any request behind a round-robin balancer.
    app = mcp.streamable_http_app(stateless_http=True, json_response=True, host=settings.host)
    app.user_middleware.append(Middleware(PostOnly))
    refusals = RefusalTally()
    # Appended, not `add_middleware`d: the limits run inside the SDK's authentication, on verified callers,
    # and before anything else reads the body.
    limits = Middleware(
        LimitsMiddleware,
        settings=settings.rate_limit,
        limits=lambda: runtime.current.shared.limits if runtime.current else None,
        tally=refusals,
    )
    app.user_middleware.append(limits)
    refuse_write_calls_over_http(app, mcp, runtime)
    audit_refusals(app, refusals, runtime)
    return app


def audit_refusals(app: Starlette, refusals: RefusalTally, runtime: Runtime) -> None:
    """Around the SDK's lifespan (which opens the database): the limits' refusals go to the trail each
    minute, and what is left is written before the database closes."""
    serve = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(starlette: Starlette) -> AsyncIterator[None]:
        async with serve(starlette):
            if runtime.current is None:  # the MCP lifespan opens it; nothing to write into otherwise
                yield
                return
            sessions = runtime.current.sessions
            try:
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(keep_writing, refusals, sessions)
                    try:
                        yield
                    finally:
                        tasks.cancel_scope.cancel()
            finally:
                await write(sessions, refusals.remaining())

    app.router.lifespan_context = lifespan


async def serve_http(mcp: MCPServer[AppContext], runtime: Runtime) -> bool:
    """Serve until a signal stops it; False when the server never started (uvicorn has logged why)."""
    settings = runtime.settings
    config = uvicorn.Config(
        http_app(mcp, runtime),
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep our structured logging
        access_log=False,
        lifespan="on",
        # SIGTERM: stop accepting, let in-flight calls finish for this long, then close.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    server = uvicorn.Server(config)
    await server.serve()
    return server.started
