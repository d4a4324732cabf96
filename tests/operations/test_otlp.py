"""Traces leave the process by OTLP/HTTP when a collector is configured: a stand-in collector on
loopback receives the span of a tool call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.operations.conftest import Spawn
from tests.transports.conftest import TOKENS, http_client

pytestmark = pytest.mark.anyio


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Collector.received
    server.shutdown()
    server.server_close()


async def test_a_tool_calls_span_is_exported_to_the_configured_collector(
    spawn: Spawn, seeded_url: str, collector: tuple[str, list[tuple[str, bytes]]]
) -> None:
    endpoint, received = collector
    url = spawn(seeded_url, OUTLAY_OTEL__ENDPOINT=endpoint, OTEL_BSP_SCHEDULE_DELAY="100")
    async with http_client(url, TOKENS["acme"]) as client:
        assert not (await client.call_tool("search_expenses", {"limit": 1})).is_error

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
        b"tools/call search_expenses" in body for _, body in received
    ):
        time.sleep(0.1)  # noqa: ASYNC251 - the collector runs in its own thread
    exported = [body for path, body in received if path == "/v1/traces"]
    assert any(b"tools/call search_expenses" in body for body in exported), [path for path, _ in received]
    assert any(b"db SELECT" in body for body in exported)
