"""A fake Claude: the Anthropic Messages API (`POST /v1/messages`) and the Bedrock invoke route the
SDK's `AnthropicBedrock` uses (`POST /model/{model}/invoke`), answering as scripted.

    fake = FakeAnthropic()
    with serve_on_loopback(fake) as url:
        fake.script.then(rate_limited(0.1), Answer({"category": "TRAVEL"}))
        fake.script.then(Blocks(("Looking.", UseTool("search_expenses", {}))), TextAnswer("Found it."))
        client = anthropic.AsyncAnthropic(base_url=url, api_key="test", max_retries=0)

Every request is recorded (`fake.script.received`) so that a test can prove what left the process.
"""

from __future__ import annotations

import itertools
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from server.fakes.checks import request_problems
from server.fakes.script import (
    Answer,
    Behaviour,
    Blocks,
    DefaultBehaviour,
    Malformed,
    Recorded,
    Script,
    Status,
    TextAnswer,
    error_response,
    malformed_response,
    play_out,
    read_request,
)

DEFAULT_ANSWER = Answer({})
_BEDROCK_PREFIX = "/model/"


class FakeAnthropic:
    """ASGI app; `script` decides how each request is answered."""

    def __init__(self, default: DefaultBehaviour = DEFAULT_ANSWER) -> None:
        self.script = Script(default)
        self._ids = itertools.count(1)
        self.in_flight = self.peak_in_flight = 0  # requests being answered: what a limiter bounds

    def reset(self, default: DefaultBehaviour = DEFAULT_ANSWER) -> None:
        self.script.reset(default)
        self._ids = itertools.count(1)  # ids a test can predict: toolu_0001 is the first answer's
        self.peak_in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = await read_request(scope, receive)
        model = _model(request)
        if request.method != "POST" or model is None:
            await _not_found(scope, receive, send)
            return
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await self._answer(request, model, (scope, receive, send))
        finally:
            self.in_flight -= 1

    async def _answer(self, request: Recorded, model: str, asgi: tuple[Scope, Receive, Send]) -> None:
        scope, receive, send = asgi
        behaviour = self.script.take(request)
        bedrock = model_in_path(request)
        if problems := request_problems(request.json(), bedrock=bedrock, headers=request.headers):
            behaviour = Status(400, "invalid_request_error", message="; ".join(problems))
        final = await play_out(behaviour, lambda: self._default(request), receive, send)
        if final is not None:
            await self._respond(final, request, model)(scope, receive, send)

    def _default(self, request: Recorded) -> Behaviour:
        default = self.script.default
        return default(request) if callable(default) else default

    def _respond(self, behaviour: Behaviour, request: Recorded, model: str) -> Response:
        if isinstance(behaviour, Status):
            return error_response(behaviour)
        if isinstance(behaviour, Malformed):
            return malformed_response(behaviour)
        if isinstance(behaviour, Answer | TextAnswer | Blocks):
            return JSONResponse(self._message(behaviour, request, model))
        raise AssertionError(f"unhandled behaviour {behaviour!r}")

    def _message(
        self, behaviour: Answer | TextAnswer | Blocks, request: Recorded, model: str
    ) -> dict[str, Any]:
        number = next(self._ids)
        content = self._content(behaviour, request, number)
        return {
            "id": f"msg_{number:04d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use"
            if any(block["type"] == "tool_use" for block in content)
            else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": behaviour.input_tokens, "output_tokens": behaviour.output_tokens},
        }

    def _content(
        self, behaviour: Answer | TextAnswer | Blocks, request: Recorded, number: int
    ) -> list[dict[str, Any]]:
        if isinstance(behaviour, TextAnswer):
            return [{"type": "text", "text": behaviour.text}]
        if isinstance(behaviour, Answer):
            name = _tool_name(request)
            return [
                {"type": "tool_use", "id": f"toolu_{number:04d}", "name": name, "input": behaviour.tool_input}
            ]
        return [
            {"type": "text", "text": block}
            if isinstance(block, str)
            else {
                "type": "tool_use",
                "id": f"toolu_{number:04d}_{index}",
                "name": block.name,
                "input": block.input,
            }
            for index, block in enumerate(behaviour.content, start=1)
        ]


def _model(request: Recorded) -> str | None:
    """The model asked for: in the body (Anthropic API) or in the path (Bedrock)."""
    if request.path == "/v1/messages":
        return str(request.json().get("model", ""))
    if request.path.startswith(_BEDROCK_PREFIX) and request.path.endswith("/invoke"):
        return request.path.removeprefix(_BEDROCK_PREFIX).removesuffix("/invoke")
    return None


def model_in_path(request: Recorded) -> bool:
    return request.path.startswith(_BEDROCK_PREFIX)


def _tool_name(request: Recorded) -> str:
    body = request.json()
    choice = body.get("tool_choice") or {}
    tools = body.get("tools") or [{}]
    return str(choice.get("name") or tools[0].get("name") or "answer")


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    body = {"type": "error", "error": {"type": "not_found_error", "message": "no such route"}}
    await JSONResponse(body, status_code=404)(scope, receive, send)
