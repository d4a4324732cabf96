"""Every MCP call leaves one audit_events row (who, company, what, a digest of the arguments, how it
ended, how long), the table refuses UPDATE and DELETE, and `outlay audit` reads it back."""

# No `from __future__ import annotations`: the SDK evaluates the probe tool's signature.
import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client, MCPError
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import RequestParamsMeta
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from server.audit.trail import append, arguments_digest
from server.calls import tool_call
from server.cli import main
from server.context import AppContext
from server.db.engine import create_engine, create_session_factory
from tests.world import build, call_error, call_ok, connect, raw

pytestmark = pytest.mark.anyio

COLUMNS = "kind, name, outcome, company, subject"


async def broken(ctx: Context[AppContext]) -> str:
    """A tool with a bug."""
    async with tool_call(ctx, "broken"):
        raise RuntimeError("a bug")


def server(url: str, company: str) -> MCPServer[AppContext]:
    built = build(url, company)
    built.tool()(broken)
    return built


@pytest.fixture
async def acme(world_url: str, anyio_backend: str) -> AsyncIterator[Client]:
    async with connect(server(world_url, "acme"), "auto") as client:
        yield client


async def test_every_call_is_audited_with_how_it_ended(acme: Client, world_url: str) -> None:
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})
    await call_error(acme, "get_expense", {"expense_id": "EXP-999999"})
    await call_error(acme, "search_expenses", {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert (await acme.call_tool("search_expenses", {"limit": 0})).is_error
    assert (await acme.call_tool("broken", {})).is_error
    await acme.read_resource("outlay://categories")
    async with connect(server(world_url, "nobody"), "auto") as stranger:
        await call_error(stranger, "get_expense", {"expense_id": "EXP-000100"})

    assert await raw(world_url, f"SELECT {COLUMNS} FROM audit_events ORDER BY id") == [
        ("tool", "get_expense", "ok", "acme", "local"),
        ("tool", "get_expense", "not_found", "acme", "local"),
        ("tool", "search_expenses", "rejected", "acme", "local"),
        ("tool", "search_expenses", "invalid_arguments", "acme", "local"),
        ("tool", "broken", "error", "acme", "local"),
        ("resource", "outlay://categories", "ok", "acme", "local"),
        ("tool", "get_expense", "rejected", "nobody", "local"),
    ]


async def test_names_no_database_would_store_are_audited_in_a_sanitized_form(
    acme: Client, world_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="outlay.audit"):
        assert (await acme.call_tool("get_expense\x00; --", {"expense_id": "EXP-\x00"})).is_error
        assert (await acme.call_tool("x" * 5000, {})).is_error
        with pytest.raises(MCPError):
            await acme.read_resource("outlay://no\x00where")

    assert [record.getMessage() for record in caplog.records] == []
    assert await raw(world_url, "SELECT kind, name FROM audit_events ORDER BY id") == [
        ("tool", "get_expense\\x00; --"),
        ("tool", "x" * 200),
        ("resource", "outlay://no\\x00where"),
    ]


async def test_arguments_are_kept_as_a_digest_never_as_values(acme: Client, world_url: str) -> None:
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000035"})
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})

    rows = await raw(world_url, "SELECT * FROM audit_events ORDER BY id")
    digests = await raw(
        world_url, "SELECT arguments_sha256, latency_ms, call_id FROM audit_events ORDER BY id"
    )
    assert [d[0] for d in digests] == [
        arguments_digest({"expense_id": ref}) for ref in ["EXP-000100", "EXP-000035", "EXP-000100"]
    ]
    assert digests[0][0] != digests[1][0]
    assert all(latency > 0 for _, latency, _ in digests)
    assert len({call_id for _, _, call_id in digests}) == 3  # each call its own id
    assert all(re.fullmatch(r"[0-9a-f]{32}", call_id) for _, _, call_id in digests)
    assert "EXP-000" not in repr(rows)


async def test_the_table_refuses_updates_and_deletes(world_url: str) -> None:
    async with connect(server(world_url, "acme"), "auto") as client:
        await call_ok(client, "get_expense", {"expense_id": "EXP-000100"})
    engine = create_engine(world_url)
    try:
        for statement in ["UPDATE audit_events SET outcome = 'ok'", "DELETE FROM audit_events"]:
            with pytest.raises(DBAPIError, match="audit_events is append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()
    assert await raw(world_url, "SELECT outcome FROM audit_events") == [("ok",)]


async def test_outlay_audit_filters_and_prints_a_table_or_json(
    acme: Client, world_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})
    await call_error(acme, "get_expense", {"expense_id": "EXP-999999"})
    await acme.read_resource("outlay://teams")
    monkeypatch.setenv("OUTLAY_DATABASE_URL", world_url)
    capsys.readouterr()

    assert (
        await asyncio.to_thread(main, ["audit", "--company", "acme", "--tool", "get_expense", "--json"]) == 0
    )
    found = json.loads(capsys.readouterr().out)
    assert [(e["name"], e["outcome"], e["subject"]) for e in found] == [
        ("get_expense", "not_found", "local"),  # newest first
        ("get_expense", "ok", "local"),
    ]
    assert found[0]["arguments_sha256"] == arguments_digest({"expense_id": "EXP-999999"})
    assert found[0]["count"] == 1

    assert await asyncio.to_thread(main, ["audit", "--outcome", "ok", "--since", "2000-01-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = ["at", "subject", "company", "kind", "name", "outcome", "count", "ms", "changes"]
    assert lines[0].split() == header
    assert [line.split()[5] for line in lines[1:]] == ["outlay://teams", "get_expense"]

    assert await asyncio.to_thread(main, ["audit", "--until", "2000-01-01"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # the header alone


async def test_a_traced_call_is_audited_with_its_trace_id(acme: Client, world_url: str) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    meta = RequestParamsMeta(traceparent=f"00-{trace_id}-00f067aa0ba902b7-01")  # type: ignore[typeddict-unknown-key]
    await acme.call_tool("get_expense", {"expense_id": "EXP-000100"}, meta=meta)
    await acme.call_tool("get_expense", {"expense_id": "EXP-000100"})

    traces = await raw(world_url, "SELECT trace_id FROM audit_events ORDER BY id")
    assert traces[0] == (trace_id,)
    assert traces[1] != (trace_id,)


async def test_an_event_that_cannot_be_written_is_logged_and_the_call_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-schema.db'}")
    row = {"subject": "local", "kind": "tool", "name": "get_expense", "outcome": "ok", "call_id": "c1"}
    try:
        with caplog.at_level(logging.ERROR, logger="outlay.audit"):
            await append(create_session_factory(engine), row)
    finally:
        await engine.dispose()

    [record] = caplog.records
    assert record.getMessage() == "audit event not written"
    assert record.__dict__["event"] == {
        "subject": "local",
        "kind": "tool",
        "name": "get_expense",
        "outcome": "ok",
        "call_id": "c1",
    }
    assert record.__dict__["error"] == "OperationalError"
