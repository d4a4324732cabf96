"""An MCP client session on a server for one trial, over the transport the run asked for, and the thin
wrapper agents call tools through (so that every call lands in the transcript as the server answered).

- memory: the server object in this process (fast: what CI runs);
- stdio: `outlay serve --transport stdio` as a subprocess, as Claude Desktop runs it;
- http: `outlay serve --transport http` on a free loopback port, with a bearer token, as assistants use it.
Agents never import tool functions: everything goes over the protocol.

A session acts as one caller: a person (an employee's e-mail: OUTLAY_USER in memory and over stdio, an
API key bound to them over HTTP) or, by default, a caller without a user. A scenario whose turns are
said by several people (`user.people`) gets one client per person, opened when they first speak.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import anyio
import anyio.abc
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp_types import (
    CallToolResult,
    ElicitRequestFormParams,
    ElicitRequestParams,
    ElicitResult,
    EmbeddedResource,
    ResourceLink,
    TextContent,
    Tool,
)

from evals.harness.scenario import Confirm
from evals.harness.transcript import InfrastructureError, ToolCallRecord, Transcript
from server.fakes.loopback import free_port

OUTLAY = str(Path(sys.executable).with_name("outlay"))
# Pinned, not random per server: paging cursors go back to the model inside tool results, and a
# recorded live run replays only if every request, cursors included, is byte for byte the same.
CURSOR_SECRET = "outlay-evals-cursor-secret"  # noqa: S105  (it signs cursors of throwaway eval databases)


class Transport(StrEnum):
    MEMORY = "memory"
    STDIO = "stdio"
    HTTP = "http"


@dataclass(frozen=True)
class ServerTarget:
    """The server a trial talks to: its database, the company the caller belongs to and its 'today'."""

    database_url: str
    company: str
    today: dt.date


@asynccontextmanager
async def open_client(
    target: ServerTarget, transport: Transport, confirm: Confirm, user: str | None = None
) -> AsyncIterator[Client]:
    """A connected client acting as `user` (None: a caller without a user); connection failures become
    `InfrastructureError`s."""
    elicit = _answer_confirmations(confirm)
    person = {"OUTLAY_USER": user} if user else {}
    try:
        if transport is Transport.MEMORY:
            async with Client(_in_memory_server(target, user), elicitation_callback=elicit) as client:
                yield client
        elif transport is Transport.STDIO:
            parameters = StdioServerParameters(
                command=OUTLAY, args=["serve", "--transport", "stdio"], env=_server_env(target, **person)
            )
            async with Client(parameters, elicitation_callback=elicit) as client:
                yield client
        else:
            async with (
                _http_server(target, user) as (url, token),
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http,
                Client(
                    streamable_http_client(f"{url}/mcp", http_client=http), elicitation_callback=elicit
                ) as client,
            ):
                yield client
    except (OSError, httpx2.TransportError, TimeoutError) as exc:
        raise InfrastructureError(f"{transport} connection to the server failed: {exc}") from exc


Connect = Callable[[str | None], Awaitable[Client]]


class ToolSession:
    """The agent's hands: lists the server's tools and calls them, recording every call; `speak_as`
    switches to another person's client (opened with `connect`, the first time they speak)."""

    def __init__(
        self,
        client: Client,
        transcript: Transcript,
        *,
        user: str | None = None,
        connect: Connect | None = None,
    ) -> None:
        self._client = client
        self._transcript = transcript
        self._tools: list[Tool] | None = None
        self._clients: dict[str | None, Client] = {user: client}
        self._connect = connect

    async def speak_as(self, user: str | None) -> None:
        if user not in self._clients:
            if self._connect is None:
                raise InfrastructureError(f"this session acts for one caller, not also for {user}")
            self._clients[user] = await self._connect(user)
        self._client = self._clients[user]

    async def tools(self) -> list[Tool]:
        if self._tools is None:
            listed: list[Tool] = []
            cursor: str | None = None
            while True:
                page = await self._client.list_tools(cursor=cursor)
                listed.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
            self._tools = listed
        return self._tools

    async def prompt(self, name: str, arguments: dict[str, str]) -> str:
        """An MCP prompt rendered by the server, as the text a client would put in the conversation
        (embedded resources and resource links by URI, so the agent knows what to read)."""
        result = await self._client.get_prompt(name, arguments)
        parts: list[str] = []
        for message in result.messages:
            content = message.content
            if isinstance(content, TextContent):
                parts.append(content.text)
            elif isinstance(content, EmbeddedResource):
                body = getattr(content.resource, "text", "")
                parts.append(f"[resource {content.resource.uri}]\n{body}")
            elif isinstance(content, ResourceLink):
                parts.append(f"[resource {content.uri}: {content.name}]")
        self._transcript.prompt = "\n\n".join(parts)
        return self._transcript.prompt

    async def call(
        self, tool: str, arguments: dict[str, Any], *, turn: int, name: str | None = None
    ) -> ToolCallRecord:
        started = time.perf_counter()
        result: CallToolResult = await self._client.call_tool(tool, arguments)
        latency_ms = (time.perf_counter() - started) * 1000
        text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
        record = ToolCallRecord(
            tool=tool,
            arguments=arguments,
            is_error=bool(result.is_error),
            structured=result.structured_content,
            text=text,
            latency_ms=latency_ms,
            turn=turn,
            name=name,
        )
        self._transcript.calls.append(record)
        return record


def _answer_confirmations(confirm: Confirm) -> Any:
    """The user's answer to every confirmation the server asks for (the scenario's `confirm_writes`)."""

    async def answer(_: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        if confirm is Confirm.ACCEPT and isinstance(params, ElicitRequestFormParams):
            # Our confirmations are forms of yes/no fields: accepting says yes to each of them.
            fields: dict[str, Any] = dict(params.requested_schema.get("properties") or {})
            content: dict[str, Any] = {
                key: True for key, spec in fields.items() if spec.get("type") == "boolean"
            }
            return ElicitResult(action="accept", content=content)
        return ElicitResult(action=confirm.value)

    return answer


def _in_memory_server(target: ServerTarget, user: str | None) -> Any:
    from pydantic import SecretStr

    from server.app import build_server
    from server.settings import Settings

    settings = Settings(
        database_url=target.database_url,
        company=target.company,
        today=target.today,
        cursor_secret=SecretStr(CURSOR_SECRET),
        user=user,
    )
    return build_server(settings, local_company=target.company)


def _server_env(target: ServerTarget, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OUTLAY_")}
    env.update(
        OUTLAY_DATABASE_URL=target.database_url,
        OUTLAY_COMPANY=target.company,
        OUTLAY_TODAY=target.today.isoformat(),
        OUTLAY_LOG_LEVEL="WARNING",
        OUTLAY_CURSOR_SECRET=CURSOR_SECRET,
        **extra,
    )
    return env


@asynccontextmanager
async def _http_server(target: ServerTarget, user: str | None) -> AsyncIterator[tuple[str, str]]:
    """`outlay serve --transport http` on a free loopback port, with a fresh token for the company (an API
    key bound to `user` when there is one)."""
    token = secrets.token_urlsafe(24)
    port = free_port()
    grant: str | dict[str, str] = (
        target.company if user is None else {"company": target.company, "user": user}
    )
    env = _server_env(target, OUTLAY_API_KEYS=json.dumps({token: grant}))
    command = [OUTLAY, "serve", "--transport", "http", "--port", str(port)]
    # The server's log goes to a file, not a pipe nobody reads (a full pipe would stall the server).
    with tempfile.TemporaryFile() as log:
        async with await anyio.open_process(
            command, env=env, stdout=subprocess.DEVNULL, stderr=log
        ) as process:
            url = f"http://127.0.0.1:{port}"
            try:
                await _ready(url, process, log)
                yield url, token
            finally:
                process.terminate()
                with anyio.move_on_after(10):
                    await process.wait()
                if process.returncode is None:
                    process.kill()


async def _ready(url: str, process: anyio.abc.Process, log: IO[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx2.AsyncClient(timeout=1) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-800:]
                raise InfrastructureError(f"outlay serve exited with {process.returncode}: {tail}")
            try:
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            await anyio.sleep(0.1)
    raise InfrastructureError(f"outlay serve did not become ready at {url} within {seconds:.0f} s")
