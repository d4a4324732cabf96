"""Fuzz every tool through a real MCP client, in memory and over streamable HTTP, on both backends, with
arguments drawn from the tool's own schema and the bad input of issue 19 (tests/fuzz/strategies.py).
Whatever the arguments:

- the answer is a result, or a tool error in plain words: one line, or one line per argument that is
  wrong, each starting with the argument's name (no traceback, no pydantic report);
- no call ends as a server failure (outcome `error`, `timeout`, `unavailable`) and nothing is logged at
  ERROR;
- a refused call leaves the database as it was (every table's row count but the call trail's, and the
  expenses' categories);
- over HTTP, made-up tool names do not grow the metric series, and the server log holds no traceback.

OUTLAY_FUZZ_EXAMPLES sets the examples per tool and client (8 by default, drawn the same way on every run
so that CI is repeatable; `make fuzz` draws 200 at random).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp_types import CallToolResult, TextContent
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_engine
from server.db.models import Base
from tests.conftest import BACKENDS
from tests.fuzz.strategies import Json, arguments, raw_arguments
from tests.transports.conftest import TOKENS, start_server
from tests.world import TOOLS, build, connect, seed_world

EXAMPLES = int(os.environ.get("OUTLAY_FUZZ_EXAMPLES", "8"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="OUTLAY_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=list(HealthCheck),
)
SERVER_FAILURES = {"error", "timeout", "unavailable"}
# What a tool's refusal may not look like: the validation library's own report, a traceback.
NOT_PLAIN = re.compile(r"validation error|errors\.pydantic\.dev|Traceback|Arguments\b")
# `date_from: ...`, `expense_ids[1]: ...`, `"": ...` (a made-up name that is not a plain one, quoted)
ARGUMENT_LINE = re.compile(r'(?:[\w.\[\]]+|"(?:[^"\\]|\\.)*"): \S')
# Every table but the call trail, which a refused call is meant to add to; and the categories, which
# categorize_expenses(apply=true) changes in place.
FINGERPRINT = text(
    "SELECT "
    + ", ".join(
        f"(SELECT count(*) FROM {table.name})"
        for table in Base.metadata.sorted_tables
        if table.name != "audit_events"
    )
    + ", (SELECT coalesce(sum(category_id), 0) FROM expenses)"
)
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Authorization": f"Bearer {TOKENS['acme']}",
    "MCP-Protocol-Version": "2025-11-25",
}


@dataclass(frozen=True)
class Fuzzed:
    url: str
    portal: BlockingPortal
    client: Client
    schemas: dict[str, Json]
    engine: AsyncEngine

    def fingerprint(self) -> tuple[Any, ...]:
        return self.portal.call(_fingerprint, self.engine)


async def _fingerprint(engine: AsyncEngine) -> tuple[Any, ...]:
    async with engine.connect() as connection:
        return tuple((await connection.execute(FINGERPRINT)).one())


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed(request: pytest.FixtureRequest, make_database: Any) -> Iterator[Fuzzed]:
    """A seeded database of its own (the fuzz writes when its arguments are valid), and one in-memory
    client on it, held open in a portal so that hypothesis's synchronous examples can call it."""
    url = make_database(str(request.param))
    asyncio.run(seed_world(url))
    engine = create_engine(url)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connect(build(url, "acme"), "auto")) as client,
    ):
        schemas = {tool.name: tool.input_schema for tool in portal.call(client.list_tools).tools}
        try:
            yield Fuzzed(url, portal, client, schemas, engine)
        finally:
            portal.call(engine.dispose)


def test_the_fuzz_covers_every_tool(fuzzed: Fuzzed) -> None:
    assert sorted(fuzzed.schemas) == sorted(TOOLS)


def _outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(record.__dict__["outcome"]) for record in caplog.records if record.name == "outlay.calls"]


def _plain(message: str) -> bool:
    lines = message.splitlines()
    return (
        bool(message.strip())
        and not NOT_PLAIN.search(message)
        and (len(lines) == 1 or all(ARGUMENT_LINE.match(line) for line in lines))
    )


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("tool", TOOLS)
def test_in_memory_any_arguments_get_a_result_or_a_plain_tool_error(
    fuzzed: Fuzzed, caplog: pytest.LogCaptureFixture, tool: str
) -> None:
    @FUZZ
    @given(arguments=arguments(fuzzed.schemas[tool]))
    def call(arguments: Json) -> None:
        before = fuzzed.fingerprint()
        caplog.clear()
        result: CallToolResult = fuzzed.portal.call(fuzzed.client.call_tool, tool, arguments)

        assert not SERVER_FAILURES & set(_outcomes(caplog)), (arguments, _outcomes(caplog))
        assert _errors(caplog) == [], arguments
        if not result.is_error:
            assert result.structured_content is not None
            return
        assert len(result.content) == 1, result.content
        assert isinstance(result.content[0], TextContent), result.content
        message = result.content[0].text
        assert _plain(message), (arguments, message)
        assert fuzzed.fingerprint() == before, (arguments, message)

    with caplog.at_level(logging.INFO):
        call()


@pytest.fixture(scope="module")
def served(fuzzed: Fuzzed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    process, url = start_server(fuzzed.url, log)
    yield url, log
    process.terminate()
    process.wait(timeout=30)


def _names(tool: str) -> st.SearchStrategy[str]:
    """Mostly the tool, sometimes a name nobody registered (which must land in the `unknown` series)."""
    return st.just(tool) | st.text(min_size=1, max_size=30)


@pytest.mark.parametrize("tool", TOOLS)
def test_over_http_any_call_gets_a_plain_answer_and_the_metrics_stay_bounded(
    fuzzed: Fuzzed, served: tuple[str, Path], tool: str
) -> None:
    url, log = served
    logged = len(log.read_text())

    @FUZZ
    @given(name=_names(tool), arguments=raw_arguments(fuzzed.schemas[tool]))
    def call(name: str, arguments: Any) -> None:
        before = fuzzed.fingerprint()
        request = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        }
        response = httpx2.post(f"{url}/mcp", json=request, headers=MCP_HEADERS, timeout=60)

        assert response.status_code == 200, (name, arguments, response.status_code, response.text[:300])
        answer = response.json()
        if "error" in answer:  # the protocol's own refusal (JSON-RPC error)
            message = str(answer["error"]["message"])
        elif not answer["result"].get("isError"):
            assert answer["result"].get("structuredContent") is not None
            return
        else:
            assert len(answer["result"]["content"]) == 1, answer
            message = answer["result"]["content"][0]["text"]
        assert _plain(message), (name, arguments, message)
        assert fuzzed.fingerprint() == before, (name, arguments, message)

    call()

    written = log.read_text()[logged:]
    assert "Traceback" not in written
    assert [line for line in written.splitlines() if json.loads(line).get("level") == "ERROR"] == []
    metrics = httpx2.get(f"{url}/metrics", timeout=30).text
    labels = set(re.findall(r'outlay_calls_total\{(?:[^}]*,)?name="([^"]*)"', metrics))
    assert labels <= {*TOOLS, "unknown"}, labels - {*TOOLS, "unknown"}
