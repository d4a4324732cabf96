"""Predictive models served over HTTP with the Open Inference Protocol (KServe v2):
`POST {serving_url}/v2/models/{name}/infer`. One pooled `httpx.AsyncClient`; each `post` is one attempt,
under the same guard (deadline, retries, circuit, concurrency) and accounting as LLM calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import BaseModel, Field, ValidationError

from server.gateway.resilience import AttemptFailed, failure_for_status
from server.settings.gateway import GatewaySettings

if TYPE_CHECKING:
    import httpx


class Tensor(BaseModel):
    """An input or output tensor: `data` is the flattened row-major content."""

    name: str
    shape: list[int]
    datatype: str = Field(description="BOOL, INT64, FP32, FP64, BYTES, ...")
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    id: str | None = None
    inputs: list[Tensor]
    parameters: dict[str, Any] | None = None


class InferResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[Tensor]
    parameters: dict[str, Any] | None = None

    def output(self, name: str) -> Tensor:
        for tensor in self.outputs:
            if tensor.name == name:
                return tensor
        raise KeyError(f"{self.model_name} returned no output named {name!r}")


class ServingClient:
    """One KServe v2 server; `post` makes exactly one HTTP request."""

    provider = "serving"

    def __init__(self, settings: GatewaySettings, base_url: str) -> None:
        import httpx  # only servers configured with a serving URL pay for importing it

        connections = settings.serving_max_connections
        self._http: httpx.AsyncClient = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(settings.attempt_timeout_seconds, connect=settings.connect_timeout_seconds),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self._connect_timeout = settings.connect_timeout_seconds

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post(self, model: str, request: InferRequest, seconds: float) -> InferResponse:
        import httpx

        try:
            response = await self._http.post(
                f"/v2/models/{quote(model, safe='')}/infer",
                content=request.model_dump_json(exclude_none=True),
                headers={"content-type": "application/json"},
                timeout=httpx.Timeout(seconds, connect=min(self._connect_timeout, seconds)),
            )
        except httpx.TimeoutException as exc:
            raise AttemptFailed("timeout") from exc
        except httpx.TransportError as exc:
            raise AttemptFailed("connection") from exc
        if response.is_error:
            raise failure_for_status(response.status_code, response.headers, self.provider)
        try:
            return InferResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise AttemptFailed("malformed") from exc
