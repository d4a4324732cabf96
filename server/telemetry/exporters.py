"""Telemetry of an HTTP server process: OpenTelemetry metrics read by Prometheus at /metrics, traces
exported by OTLP when a collector is configured, a span per database query, and the pool's gauges.

The OpenTelemetry providers are process-wide and can be set once: `install_telemetry` is idempotent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings.operations import TelemetrySettings

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_tracer = trace.get_tracer("outlay.db")


@dataclass(frozen=True)
class Telemetry:
    registry: CollectorRegistry
    tracer_provider: TracerProvider

    def metrics_text(self) -> bytes:
        return generate_latest(self.registry)


_installed: Telemetry | None = None


def install_telemetry(settings: TelemetrySettings) -> Telemetry:
    global _installed
    if _installed is not None:
        return _installed
    resource = Resource.create({"service.name": settings.service_name})
    registry = CollectorRegistry()
    metrics.set_meter_provider(
        MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader(registry=registry)])
    )
    tracer_provider = TracerProvider(resource=resource)
    if exporter := _otlp_exporter(settings):
        tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    event.listen(Engine, "before_cursor_execute", _query_started)
    event.listen(Engine, "after_cursor_execute", _query_finished)
    event.listen(Engine, "handle_error", _query_failed)
    _installed = Telemetry(registry, tracer_provider)
    return _installed


def _otlp_exporter(settings: TelemetrySettings) -> Any:
    standard = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if settings.endpoint is None and not any(os.environ.get(name) for name in standard):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if settings.endpoint is None:
        return OTLPSpanExporter()  # reads the standard variables itself
    return OTLPSpanExporter(endpoint=f"{settings.endpoint.rstrip('/')}/v1/traces")


def trace_context_from_headers(headers: Any) -> otel_context.Context | None:
    """The W3C trace context of an HTTP request's `traceparent`/`tracestate`, if it carries a valid one."""
    if headers is None or "traceparent" not in headers:
        return None
    extracted = propagate.extract(
        {key: headers[key] for key in ("traceparent", "tracestate") if key in headers}
    )
    return extracted if trace.get_current_span(extracted).get_span_context().is_valid else None


# Database spans: only inside a traced call (health checks and pings stay out), statement text only —
# the parameters, which hold the caller's data, are never recorded.
def _query_started(conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
    if context is None or not trace.get_current_span().is_recording():
        return
    operation = statement.split(None, 1)[0].upper() if statement.strip() else "SQL"
    context._outlay_span = _tracer.start_span(
        f"db {operation}",
        kind=SpanKind.CLIENT,
        attributes={"db.system.name": conn.dialect.name, "db.query.text": statement[:2000]},
    )


def _query_finished(
    _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
) -> None:
    span = getattr(context, "_outlay_span", None)
    if span is not None:
        span.end()
        context._outlay_span = None


def _query_failed(exception_context: ExceptionContext) -> None:
    span = getattr(exception_context.execution_context, "_outlay_span", None)
    if span is not None:
        span.set_status(StatusCode.ERROR, type(exception_context.original_exception).__name__)
        span.end()
        exception_context.execution_context._outlay_span = None  # type: ignore[union-attr]


def watch_pool(engine_of: Callable[[], AsyncEngine | None]) -> None:
    """Gauges of the connection pool of whatever engine `engine_of` returns at collection time."""

    def observe(measure: Callable[[Any], int]) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def callback(_: CallbackOptions) -> Iterable[Observation]:
            engine = engine_of()
            pool = engine.pool if engine is not None else None
            try:
                return [Observation(measure(pool))] if pool is not None else []
            except AttributeError:  # a pool without that figure (SQLite's static pools)
                return []

        return callback

    meter = metrics.get_meter("outlay.db")
    meter.create_observable_gauge(
        "outlay.db.pool.checked_out",
        [observe(lambda p: p.checkedout())],
        "{connection}",
        "Connections in use",
    )
    meter.create_observable_gauge(
        "outlay.db.pool.size", [observe(lambda p: p.size())], "{connection}", "Connections the pool keeps"
    )
    meter.create_observable_gauge(
        "outlay.db.pool.overflow",
        [observe(lambda p: p.overflow())],
        "{connection}",
        "Connections beyond size",
    )
