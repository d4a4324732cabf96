"""Traces: the SDK's span per tool call, parented from `_meta` or the HTTP `traceparent`, with our
database and model spans under it and the call's company and outcome on it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from mcp.server import MCPServer
from mcp_types import RequestParamsMeta
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from server.context import AppContext
from server.gateway.accounting import Accounting, CallRecord
from server.http.serve import trace_from_headers
from server.settings.gateway import GatewaySettings
from server.settings.operations import TelemetrySettings
from server.telemetry.exporters import install_telemetry
from server.telemetry.logs import JsonFormatter, KeyValueFormatter
from tests.world import connect

pytestmark = pytest.mark.anyio

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"

_EXPORTER = InMemorySpanExporter()
_EXPORTING_TO: set[int] = set()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    telemetry = install_telemetry(TelemetrySettings())
    if id(telemetry) not in _EXPORTING_TO:
        telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        _EXPORTING_TO.add(id(telemetry))
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _descends_from(span: ReadableSpan, ancestor: ReadableSpan, by_id: dict[int, ReadableSpan]) -> bool:
    current: ReadableSpan | None = span
    while current is not None and current.parent is not None:
        if current.parent.span_id == ancestor.context.span_id:
            return True
        current = by_id.get(current.parent.span_id)
    return False


async def test_a_tool_call_is_a_span_under_the_callers_traceparent_with_database_spans_below(
    spans: InMemorySpanExporter,
    servers: Callable[[str, str], MCPServer[AppContext]],
    seeded_url: str,
    anyio_backend: str,
) -> None:
    async with connect(servers(seeded_url, "acme"), "auto") as client:
        meta = RequestParamsMeta(traceparent=TRACEPARENT)  # type: ignore[typeddict-unknown-key]
        result = await client.call_tool("search_expenses", {"limit": 2}, meta=meta)
    assert not result.is_error

    finished = spans.get_finished_spans()
    [call] = [span for span in finished if span.name == "tools/call search_expenses"]
    assert call.parent is not None
    assert (_hex(call.context.trace_id, 32), _hex(call.parent.span_id, 16)) == (TRACE_ID, PARENT_ID)
    assert call.attributes is not None
    assert (call.attributes["outlay.company"], call.attributes["outlay.outcome"]) == ("acme", "ok")
    by_id = {span.context.span_id: span for span in finished}
    queries = [span for span in finished if span.name.startswith("db ") and _descends_from(span, call, by_id)]
    assert queries, [span.name for span in finished]
    assert all(span.attributes and "db.query.text" in span.attributes for span in queries)
    assert not any("acme" in str(span.attributes) for span in queries)  # statements, never parameters


async def test_an_http_traceparent_header_parents_the_request_when_meta_has_none(
    spans: InMemorySpanExporter,
) -> None:
    seen: list[str] = []

    async def call_next(_: Any) -> Any:
        seen.append(_hex(trace.get_current_span().get_span_context().trace_id, 32))
        return {}

    request = SimpleNamespace(headers={"traceparent": TRACEPARENT})
    await trace_from_headers(SimpleNamespace(meta=None, request=request), call_next)  # type: ignore[arg-type]
    await trace_from_headers(SimpleNamespace(meta=None, request=None), call_next)  # type: ignore[arg-type]

    assert seen == [TRACE_ID, "0" * 32]


async def test_a_model_call_is_a_client_span_under_the_current_one(spans: InMemorySpanExporter) -> None:
    accounting = Accounting(GatewaySettings(), MeterProvider())
    tracer = trace.get_tracer("test")

    record = CallRecord("llm", "anthropic", "claude-haiku-4-5", "acme")
    with tracer.start_as_current_span("tools/call categorize") as parent, accounting.recording(record):
        pass

    [model] = [span for span in spans.get_finished_spans() if span.name.startswith("model ")]
    assert model.parent is not None
    assert model.parent.span_id == parent.get_span_context().span_id
    assert model.kind == trace.SpanKind.CLIENT
    assert model.attributes is not None
    assert model.attributes["outlay.outcome"] == "ok"


def test_log_lines_inside_a_span_carry_its_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    record = logging.makeLogRecord({"msg": "tool call", "name": "outlay.calls", "levelname": "INFO"})
    outside = json.loads(JsonFormatter().format(record))

    with trace.get_tracer("test").start_as_current_span("call") as span:
        inside = json.loads(JsonFormatter().format(record))
        text = KeyValueFormatter().format(record)

    trace_id = _hex(span.get_span_context().trace_id, 32)
    span_id = _hex(span.get_span_context().span_id, 16)
    assert "trace_id" not in outside
    assert (inside["trace_id"], inside["span_id"]) == (trace_id, span_id)
    assert f"trace_id={trace_id}" in text
