"""/metrics over real HTTP: what Prometheus scrapes after a tool call."""

from __future__ import annotations

import contextlib
import re

import httpx2
import pytest
from mcp import MCPError

from tests.operations.conftest import Spawn
from tests.transports.conftest import TOKENS, http_client

pytestmark = pytest.mark.anyio


def _sample(text: str, metric: str, **labels: str) -> float:
    """The value of the one sample of `name` whose labels include `labels`."""
    found = []
    for line in text.splitlines():
        match = re.fullmatch(rf"{metric}(?:\{{(.*)\}})? (\S+)", line)
        if match and all(f'{key}="{value}"' in (match.group(1) or "") for key, value in labels.items()):
            found.append(float(match.group(2)))
    assert len(found) == 1, (metric, labels, [line for line in text.splitlines() if metric in line])
    return found[0]


async def test_a_tool_call_shows_in_the_counter_and_latency_histogram(spawn: Spawn, seeded_url: str) -> None:
    url = spawn(seeded_url)
    async with http_client(url, TOKENS["acme"]) as client:
        for _ in range(2):
            assert not (await client.call_tool("search_expenses", {"limit": 2})).is_error
        assert (await client.call_tool("search_expenses", {"limit": 2, "cursor": "forged"})).is_error

    scraped = httpx2.get(f"{url}/metrics")
    text = scraped.text

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    tool = {"kind": "tool", "name": "search_expenses"}
    assert _sample(text, "outlay_calls_total", **tool, outcome="ok") == 2
    assert _sample(text, "outlay_calls_total", **tool, outcome="rejected") == 1
    assert _sample(text, "outlay_call_duration_seconds_count", **tool, outcome="ok") == 2
    assert _sample(text, "outlay_call_duration_seconds_bucket", **tool, outcome="ok", le="+Inf") == 2
    assert 0 < _sample(text, "outlay_call_duration_seconds_sum", **tool, outcome="ok") < 30
    assert _sample(text, "outlay_db_pool_checked_out") == 0
    assert _sample(text, "outlay_db_pool_size") >= 1


def _series(text: str, metric: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"{metric}{{")]


async def test_names_a_caller_makes_up_cannot_grow_the_series(spawn: Spawn, seeded_url: str) -> None:
    url = spawn(seeded_url)
    async with http_client(url, TOKENS["acme"]) as client:
        for n in range(150):
            assert (await client.call_tool(f"no_such_tool_{n}", {})).is_error
        for ref in ("EXP-000050", "EXP-000051", "EXP-999999"):
            with contextlib.suppress(MCPError):
                await client.read_resource(f"outlay://expenses/{ref}")
        for n in range(20):
            with pytest.raises(MCPError):
                await client.read_resource(f"outlay://nowhere/{n}")
            with pytest.raises(MCPError):
                await client.get_prompt(f"no_such_prompt_{n}")
        assert not (await client.call_tool("search_expenses", {"limit": 1})).is_error

    text = httpx2.get(f"{url}/metrics").text

    made_up = {"kind": "tool", "name": "unknown", "outcome": "invalid_arguments"}
    assert _sample(text, "outlay_calls_total", **made_up) == 150
    assert _sample(text, "outlay_calls_total", kind="tool", name="search_expenses", outcome="ok") == 1
    assert _sample(text, "outlay_calls_total", kind="resource", name="unknown", outcome="not_found") == 20
    unknown_prompt = {"kind": "prompt", "name": "unknown", "outcome": "invalid_arguments"}
    assert _sample(text, "outlay_calls_total", **unknown_prompt) == 20
    expense = [line for line in _series(text, "outlay_calls_total") if 'kind="resource"' in line]
    assert all("EXP-" not in line for line in expense), expense
    assert 'name="outlay://expenses/{expense_id}"' in str(expense)
    assert len(_series(text, "outlay_calls_total")) <= 8
    assert len(_series(text, "outlay_call_duration_seconds_count")) <= 8
