"""Streamable HTTP serving: the MCP endpoint at /mcp plus unauthenticated /healthz and /readyz."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import cast

import uvicorn
from mcp.server import MCPServer
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.context import AppContext
from server.runtime import Runtime

log = logging.getLogger("outlay.http")


Handler = Callable[[Request], Awaitable[Response]]


def _route(mcp: MCPServer[AppContext], path: str) -> Callable[[Handler], Handler]:
    # The SDK's decorator is untyped; its contract is exactly this.
    return cast(
        Callable[[Handler], Handler], mcp.custom_route(path, methods=["GET"], include_in_schema=False)
    )


def add_health_routes(mcp: MCPServer[AppContext], runtime: Runtime) -> None:
    """/healthz: the process answers. /readyz: it can reach its database (for load balancers), and the
    state of each model backend's circuit — informative only: without models the tools still answer,
    degraded, so an open circuit never takes the replica out of rotation."""

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
        return JSONResponse({"status": "ready", "database": "ok", "models": app.gateway.status()})


def http_app(mcp: MCPServer[AppContext], runtime: Runtime) -> Starlette:
    add_health_routes(mcp, runtime)
    # Stateless + JSON responses: any replica can answer any request behind a round-robin balancer.
    return mcp.streamable_http_app(stateless_http=True, json_response=True, host=runtime.settings.host)


async def serve_http(mcp: MCPServer[AppContext], runtime: Runtime) -> None:
    settings = runtime.settings
    config = uvicorn.Config(
        http_app(mcp, runtime),
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep our structured logging
        access_log=False,
        lifespan="on",
    )
    await uvicorn.Server(config).serve()
