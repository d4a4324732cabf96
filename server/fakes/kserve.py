"""A fake model server speaking the Open Inference Protocol (KServe v2): `POST /v2/models/{name}/infer`
runs a Python function per model, unless the script says to fail, stall or drop first.

    fake = FakeKServe({"categorizer": lambda request: [{"name": "label", "shape": [1],
                                                         "datatype": "BYTES", "data": ["TRAVEL"]}]})
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from server.fakes.script import (
    Answer,
    Behaviour,
    Malformed,
    Recorded,
    Script,
    Status,
    error_response,
    malformed_response,
    play_out,
    read_request,
)

Predict = Callable[[dict[str, Any]], list[dict[str, Any]]]  # the request's JSON -> output tensors
_INFER = re.compile(r"^/v2/models/(?P<model>[^/]+)/infer$")


class FakeKServe:
    """ASGI app; by default each model answers with its function, `script` overrides request by request
    (`Answer(tool_input=[...tensors])` answers those outputs)."""

    def __init__(self, models: Mapping[str, Predict]) -> None:
        self.models = dict(models)
        self.script = Script(self._predict)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = await read_request(scope, receive)
        if request.method == "GET" and request.path == "/v2/health/ready":
            await JSONResponse({"ready": True})(scope, receive, send)
            return
        match = _INFER.match(request.path)
        if request.method != "POST" or match is None or match["model"] not in self.models:
            await JSONResponse({"error": "no such model or route"}, status_code=404)(scope, receive, send)
            return
        behaviour = self.script.take(request)
        final = await play_out(behaviour, lambda: self._predict(request), receive, send)
        if final is not None:
            await self._respond(final, request, match["model"])(scope, receive, send)

    def _predict(self, request: Recorded) -> Behaviour:
        match = _INFER.match(request.path)
        assert match is not None
        return Answer(self.models[match["model"]](request.json()))

    def _respond(self, behaviour: Behaviour, request: Recorded, model: str) -> Response:
        if isinstance(behaviour, Status):
            return error_response(behaviour)
        if isinstance(behaviour, Malformed):
            return malformed_response(behaviour)
        if isinstance(behaviour, Answer):
            body = {"model_name": model, "id": request.json().get("id"), "outputs": behaviour.tool_input}
            return JSONResponse(body)
        return JSONResponse({"error": f"{type(behaviour).__name__} makes no sense here"}, status_code=500)
