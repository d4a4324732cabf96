"""Knobs of the HTTP deployment: abuse limits and telemetry (`OUTLAY_RATE_LIMIT__*`, `OUTLAY_OTEL__*`).

Kept apart from the middleware and exporters so that reading settings stays cheap for stdio."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RateLimitSettings(BaseModel):
    """Per caller (bearer subject and company; client address without a token): per replica, or across
    replicas with `OUTLAY_REDIS_URL` (`server.shared`). `max_connections` alone counts every caller
    together, always per replica: many callers within their own limits must not exhaust the replica."""

    requests_per_second: float = Field(
        default=200.0, ge=0, description="Sustained MCP requests per second per caller (0: no rate limit)."
    )
    burst: int = Field(default=400, ge=1, description="Requests a caller may send at once above the rate.")
    concurrency: int = Field(
        default=32, ge=0, description="MCP requests in flight per caller (0: no limit); more wait their turn."
    )
    queue_seconds: float = Field(
        default=20.0, ge=0, description="How long a request waits for one of its caller's slots before a 429."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted on /mcp (larger: 413)."
    )
    max_connections: int = Field(
        default=512,
        ge=0,
        description="Requests open on /mcp at once across all callers, per replica (0: no limit); more get "
        "503 at once. Half the usual 1024 file descriptors a process may hold.",
    )


class TelemetrySettings(BaseModel):
    endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL (e.g. http://otel-collector:4318) for traces; "
        "OTEL_EXPORTER_OTLP_ENDPOINT works too. Unset: no traces are exported.",
    )
    service_name: str = Field(default="outlay", description="service.name on every span and metric.")
