"""Helpers of the approvals-that-act tests: Northwind served to a person (OUTLAY_USER for in-memory
clients), what those tools write, and a request filed and decided in the usual way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client
from mcp.server import MCPServer
from pydantic import SecretStr

from server.app import build_server
from server.context import AppContext
from server.settings import Settings
from tests.world import CURSOR_SECRET, TODAY, call_ok, raw

# Everything filing and deciding write (audit_events aside: every call, refused or not, is in the trail).
WRITTEN = [
    "SELECT id, ref, status, filed_by, filed_on_behalf, idempotency_key FROM approval_requests ORDER BY id",
    "SELECT id, request_id, step, approver_id, on_behalf_of_id, decision, comment FROM approval_decisions "
    "ORDER BY id",
    "SELECT id, action FROM data_changes ORDER BY id",
]
# Dev asks 8,000 EUR of hardware: Lee for Tara (away), then Clara, then Ben (finance).
BIG = {"amount": "8000", "category": "HARDWARE", "description": "Test rig"}

_built: dict[tuple[str, str | None, str], MCPServer[AppContext]] = {}


def server_as(url: str, user: str | None, company: str = "northwind") -> MCPServer[AppContext]:
    """`company`'s server for `user` (None: no user, like a service token), today pinned like
    tests/world.py; built once per database, user and company."""
    if (url, user, company) not in _built:
        settings = Settings(
            database_url=url, company=company, today=TODAY, cursor_secret=SecretStr(CURSOR_SECRET), user=user
        )
        _built[url, user, company] = build_server(settings, local_company=company)
    return _built[url, user, company]


@asynccontextmanager
async def as_user(
    url: str, user: str | None, *, mode: str = "auto", company: str = "northwind", **options: Any
) -> AsyncIterator[Client]:
    async with Client(server_as(url, user, company), mode=mode, raise_exceptions=True, **options) as client:
        yield client


async def written(url: str) -> list[list[tuple[Any, ...]]]:
    return [await raw(url, sql) for sql in WRITTEN]


async def file(url: str, user: str | None, **arguments: Any) -> dict[str, Any]:
    async with as_user(url, user) as client:
        return await call_ok(client, "submit_spend_request", arguments)


async def decide(url: str, user: str | None, **arguments: Any) -> dict[str, Any]:
    async with as_user(url, user) as client:
        return await call_ok(client, "decide_approval", arguments)


def approver(step: dict[str, Any] | None) -> str | None:
    """Who acts at a step, by e-mail; 'lead>cto': Lee acting for Tara."""
    if step is None or step["approver"] is None:
        return None
    acting = step["approver"]
    behalf = acting["on_behalf_of"]
    return acting["email"] if behalf is None else f"{acting['email']}>{behalf['email']}"
