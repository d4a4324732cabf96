"""What a fake server does next: a queue of behaviours a test (or a demo) scripts, and what it received.

Behaviours are plain values. The fakes answer each request with the next scripted behaviour, or with
their default once the queue is empty. The queue is shared with the server thread, hence the lock.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send


@dataclass(frozen=True)
class Answer:
    """200 with a tool call whose input is `tool_input` (any JSON value: an off-schema answer is just a
    wrong one), to the forced tool, or the first one offered (another tool: `Blocks` with `UseTool`).
    For the KServe fake, `tool_input` is the list of output tensors."""

    tool_input: Any
    input_tokens: int = 100
    output_tokens: int = 20


@dataclass(frozen=True)
class UseTool:
    """A tool_use block of a `Blocks` answer: the model chose to call `name` (offered or not)."""

    name: str
    input: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Blocks:
    """200 with these content blocks in order, as a model picking its tools answers: text (a `str`)
    and tool calls (`UseTool`), several of them if it calls tools in parallel. The stop reason is
    `tool_use` when a tool is called, else `end_turn`.

        Blocks(("Let me look that up.", UseTool("search_expenses", {"team": "Marketing"})))
    """

    content: tuple[str | UseTool, ...]
    input_tokens: int = 100
    output_tokens: int = 20


@dataclass(frozen=True)
class TextAnswer:
    """200 with prose and no tool call: a model that ignored the forced tool."""

    text: str = "I think this is probably travel."
    input_tokens: int = 100
    output_tokens: int = 10


@dataclass(frozen=True)
class Status:
    """An error status with an Anthropic-shaped error body and, optionally, a `retry-after` header."""

    status: int
    error_type: str = "api_error"
    retry_after: float | None = None
    message: str = "scripted failure"


@dataclass(frozen=True)
class Stall:
    """Hold the request for `seconds`, then behave as `then` (by default: the fake's default)."""

    seconds: float
    then: Behaviour | None = None


@dataclass(frozen=True)
class Drop:
    """Start a response and close the connection half-way through its body."""


@dataclass(frozen=True)
class Malformed:
    """200 whose body is not JSON."""

    body: bytes = b'{"id": "msg_01", "content": [{"type": "tool_use", "inp'


Behaviour = Answer | TextAnswer | Blocks | Status | Stall | Drop | Malformed
DefaultBehaviour = Behaviour | Callable[["Recorded"], Behaviour]


def rate_limited(retry_after: float | None = None) -> Status:
    return Status(429, "rate_limit_error", retry_after)


def overloaded() -> Status:
    return Status(529, "overloaded_error")


def server_error(status: int = 500) -> Status:
    return Status(status, "api_error")


def bad_request() -> Status:
    return Status(400, "invalid_request_error")


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int  # one port for many requests: the client keeps its connections alive

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Script:
    """The behaviour queue and the log of received requests; thread-safe."""

    def __init__(self, default: DefaultBehaviour) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Behaviour] = deque()
        self._received: list[Recorded] = []
        self.default = default

    def then(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, in order."""
        with self._lock:
            self._queue.extend(behaviours)

    def reset(self, default: DefaultBehaviour) -> None:
        with self._lock:
            self._queue.clear()
            self._received.clear()
            self.default = default

    def take(self, request: Recorded) -> Behaviour:
        with self._lock:
            self._received.append(request)
            if self._queue:
                return self._queue.popleft()
            default = self.default
        return default(request) if callable(default) else default

    @property
    def received(self) -> list[Recorded]:
        with self._lock:
            return list(self._received)


async def read_request(scope: Scope, receive: Receive) -> Recorded:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
    client = scope.get("client") or ("", 0)
    return Recorded(scope["method"], scope["path"], headers, b"".join(chunks), client[1])


def error_response(behaviour: Status) -> Response:
    headers = {} if behaviour.retry_after is None else {"retry-after": f"{behaviour.retry_after:g}"}
    body = {"type": "error", "error": {"type": behaviour.error_type, "message": behaviour.message}}
    return JSONResponse(body, status_code=behaviour.status, headers=headers)


async def drop_connection(send: Send) -> None:
    """Promise a body, send a piece of it, and return: the server closes the connection mid-response."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
    await send({"type": "http.response.body", "body": b'{"id": "msg', "more_body": True})


async def play_out(
    behaviour: Behaviour, then: Callable[[], Behaviour], receive: Receive, send: Send
) -> Behaviour | None:
    """Stall and drop as scripted; the behaviour left to answer with, or None when nothing is left."""
    while isinstance(behaviour, Stall):
        if not await stall(behaviour.seconds, receive):
            return None  # the client gave up waiting: nobody to answer
        behaviour = behaviour.then or then()
    if isinstance(behaviour, Drop):
        await drop_connection(send)
        return None
    return behaviour


async def stall(seconds: float, receive: Receive) -> bool:
    """Wait `seconds`; False if the client disconnected first (so that a stall ends with its caller)."""
    with anyio.move_on_after(seconds):
        while (await receive())["type"] != "http.disconnect":
            pass
        return False
    return True


def malformed_response(behaviour: Malformed) -> Response:
    return Response(behaviour.body, media_type="application/json")
