"""The one place a tool or resource call gets its caller, its database session, its log line and its
error translation. Capabilities call `tool_call(ctx, name)` and stay free of plumbing."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, TextContent
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.context import AppContext, Caller
from server.db.models import Company
from server.errors import NotFound, OutlayError

log = logging.getLogger("outlay.calls")


@dataclass(frozen=True)
class CallScope:
    app: AppContext
    caller: Caller
    session: AsyncSession


class CallerUnknown(OutlayError):
    pass


async def resolve_caller(app: AppContext, session: AsyncSession) -> Caller:
    """HTTP callers are whoever their token names; local (stdio, in-memory) callers are configured."""
    token = get_access_token()
    if token is not None:
        slug = (token.claims or {}).get("company")
        subject = token.subject or token.client_id
    elif app.local_company is not None:
        slug, subject = app.local_company, "local"
    else:
        raise CallerUnknown("This server requires a bearer token that names a company.")
    if not slug:
        return await _only_company(session)
    company = await session.scalar(select(Company).where(Company.slug == slug))
    if company is None:
        raise CallerUnknown(f"No company with slug {slug!r} is loaded on this server.")
    return Caller(company.id, company.slug, company.name, company.currency, str(subject))


async def _only_company(session: AsyncSession) -> Caller:
    companies = (await session.scalars(select(Company).limit(2))).all()
    if len(companies) != 1:
        found = "no company is loaded" if not companies else "several companies are loaded"
        raise CallerUnknown(f"Set OUTLAY_COMPANY to a company slug: {found}.")
    company = companies[0]
    return Caller(company.id, company.slug, company.name, company.currency, "local")


@asynccontextmanager
async def call_scope(app: AppContext, kind: str, name: str) -> AsyncIterator[CallScope]:
    """Open one transaction for the call, identify the caller, log one line with the outcome.

    Argument values are never logged: they can hold personal data.
    """
    started = time.perf_counter()
    outcome, company = "ok", "-"
    try:
        async with app.sessions() as session, session.begin():
            caller = await resolve_caller(app, session)
            company = caller.company_slug
            yield CallScope(app, caller, session)
    except NotFound:
        outcome = "not_found"
        raise
    except OutlayError:
        outcome = "rejected"
        raise
    except Exception:
        outcome = "error"
        raise
    finally:
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        log.info(f"{kind} call", extra={kind: name, "company": company, "ms": latency_ms, "outcome": outcome})


@asynccontextmanager
async def tool_call(ctx: Context[AppContext], name: str) -> AsyncIterator[CallScope]:
    """`call_scope` for a tool: domain errors become tool errors the agent can read and act on."""
    try:
        async with call_scope(ctx.request_context.lifespan_context, "tool", name) as scope:
            yield scope
    except OutlayError as exc:
        raise ToolError(str(exc)) from exc


def tool_result(output: BaseModel, summary: str) -> CallToolResult:
    """Structured content for programs, a short summary plus the same data as JSON for models."""
    data = output.model_dump(mode="json")
    return CallToolResult(
        content=[
            TextContent(type="text", text=summary),
            TextContent(type="text", text=json.dumps(data, ensure_ascii=False)),
        ],
        structured_content=data,
    )


_request_app: ContextVar[AppContext] = ContextVar("outlay_request_app")


async def bind_app_context(ctx: ServerRequestContext[AppContext, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: static resources get no Context, so expose the app for the request."""
    token = _request_app.set(ctx.lifespan_context)
    try:
        return await call_next(ctx)
    finally:
        _request_app.reset(token)


@asynccontextmanager
async def resource_call(name: str) -> AsyncIterator[CallScope]:
    """`call_scope` for a resource read: unknown ids become -32602, other domain errors a read error."""
    try:
        async with call_scope(_request_app.get(), "resource", name) as scope:
            yield scope
    except NotFound as exc:
        raise ResourceNotFoundError(str(exc)) from exc
    except OutlayError as exc:
        raise ResourceError(str(exc)) from exc


@asynccontextmanager
async def completion_call(name: str) -> AsyncIterator[CallScope]:
    """`call_scope` for a completion request (which gets no Context either): domain errors become -32602."""
    try:
        async with call_scope(_request_app.get(), "completion", name) as scope:
            yield scope
    except OutlayError as exc:
        raise MCPError(code=INVALID_PARAMS, message=str(exc)) from exc
