"""One structured log line per tool call on stderr, with no argument values (they can hold personal
data). Checked on a real `outlay serve --transport stdio` process with its real logging setup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import stdio_client

from tests.transports.test_stdio import stdio_server

pytestmark = pytest.mark.anyio

SECRET = "jane.private@example.org"


async def logged_calls(
    seeded_url: str, log: Path, calls: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    with log.open("w") as errlog:
        async with Client(stdio_client(stdio_server(seeded_url, "acme"), errlog=errlog)) as client:
            for tool, arguments in calls:
                await client.call_tool(tool, arguments)
    text = await anyio.Path(log).read_text()
    assert SECRET not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every stderr line is JSON
    return [line for line in lines if line["logger"] == "outlay.calls"]


async def test_each_call_logs_tool_company_latency_and_outcome_but_no_arguments(
    seeded_url: str, tmp_path: Path
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("search_expenses", {"merchant": SECRET, "limit": 1}),
        ("search_expenses", {"employee": SECRET}),
        ("get_expense", {"expense_id": SECRET}),
        ("summarize_spend", {"period": "2026-13"}),
        ("search_expenses", {"date_from": "2026-05-01", "date_to": "2026-04-01"}),
    ]

    lines = await logged_calls(seeded_url, tmp_path / "stderr.log", calls)

    assert [(line["msg"], line["tool"], line["company"], line["outcome"]) for line in lines] == [
        ("tool call", "search_expenses", "acme", "ok"),
        ("tool call", "search_expenses", "acme", "not_found"),
        ("tool call", "get_expense", "acme", "not_found"),
        ("tool call", "summarize_spend", "acme", "invalid_arguments"),
        ("tool call", "search_expenses", "acme", "rejected"),
    ]
    assert all(isinstance(line["ms"], float) for line in lines)
