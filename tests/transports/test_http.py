"""Streamable HTTP as deployed: `outlay serve --transport http` processes, bearer tokens, replicas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from tests.transports.conftest import TOKENS, http_client
from tests.world import ACME_EXPENSES, GLOBEX_EXPENSES, TOOLS

pytestmark = pytest.mark.anyio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def replicas(spawn_http_server: Callable[[str], str], seeded_url: str) -> tuple[str, str]:
    """Two replicas on one database, as behind a round-robin balancer."""
    return spawn_http_server(seeded_url), spawn_http_server(seeded_url)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", "Basic YWNtZTphY21l", f"Bearer {TOKENS['acme']}x"]
)
def test_requests_without_a_valid_token_get_401(replicas: tuple[str, str], authorization: str | None) -> None:
    headers = MCP_HEADERS | ({"Authorization": authorization} if authorization else {})

    response = httpx2.post(f"{replicas[0]}/mcp", json=INITIALIZE, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    # API keys only (OAuth off): no authorization server to send a client to, so no resource metadata.
    assert "resource_metadata" not in response.headers["www-authenticate"]


def test_with_oauth_off_no_metadata_names_an_authorization_server(replicas: tuple[str, str]) -> None:
    """A client that found this server named as its own authorization server would look there for
    /.well-known/oauth-authorization-server, which is not served, and fail with a confusing error."""
    paths = ["oauth-protected-resource/mcp", "oauth-protected-resource", "oauth-authorization-server"]

    answers = [httpx2.get(f"{replicas[0]}/.well-known/{path}").status_code for path in paths]

    assert answers == [404, 404, 404]


def test_health_and_readiness_need_no_token(replicas: tuple[str, str]) -> None:
    health = httpx2.get(f"{replicas[0]}/healthz")
    ready = httpx2.get(f"{replicas[0]}/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (
        200,
        {
            "status": "ready",
            "database": "ok",
            "models": {
                "llm": {"provider": "none", "model": "claude-haiku-4-5", "circuit": "not_configured"},
                "serving": {"circuit": "not_configured"},
            },
            "shared_state": {"backend": "memory", "status": "ok", "writes": "accepted"},
        },
    )


async def call(
    base_url: str, token: str, tool: str, arguments: dict[str, Any], mode: str = "auto"
) -> dict[str, Any]:
    async with http_client(base_url, token, mode) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_every_tool_over_http_in_both_protocol_eras(replicas: tuple[str, str], mode: str) -> None:
    async with http_client(replicas[0], TOKENS["acme"], mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        page = await client.call_tool("search_expenses", {"limit": 3})
        assert page.structured_content is not None
        expense = await client.call_tool(
            "get_expense", {"expense_id": page.structured_content["items"][0]["id"]}
        )
        summary = await client.call_tool("summarize_spend", {"group_by": "month", "period": "2026"})
        approvers = await client.call_tool("suggest_approver", {"request_id": "APR-0001"})
        categorized = await client.call_tool(
            "categorize_expense", {"descriptor": "UBER *TRIP", "mcc": "4121"}
        )
        forecast = await client.call_tool("forecast_budget", {"team": "Marketing", "period": "2026"})
        categories = await client.read_resource("outlay://categories")

    assert set(tools) == set(TOOLS)
    writers = ("categorize_expenses", "recategorize_expense", "submit_spend_request", "decide_approval")
    readers = [tool for name, tool in tools.items() if name not in writers]
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in readers)
    assert not categorized.is_error
    assert all(tool.output_schema for tool in tools.values())
    assert not expense.is_error
    assert summary.structured_content is not None
    assert summary.structured_content["currency"] == "EUR"
    assert approvers.structured_content is not None
    assert approvers.structured_content["request"]["id"] == "APR-0001"
    assert forecast.structured_content is not None
    assert forecast.structured_content["budget"] == "120000.00"
    assert categories.contents


@pytest.mark.parametrize(
    ("company", "expenses", "currency"),
    [("acme", ACME_EXPENSES + 1, "EUR"), ("globex", GLOBEX_EXPENSES + 1, "USD")],
)
async def test_each_token_sees_only_its_company(
    replicas: tuple[str, str], company: str, expenses: int, currency: str
) -> None:
    page = await call(replicas[0], TOKENS[company], "search_expenses", {"limit": 1})
    summary = await call(replicas[0], TOKENS[company], "summarize_spend", {"period": "2026"})

    assert page["total_matched"] == expenses
    assert summary["currency"] == currency


async def test_a_cursor_from_one_replica_pages_on_the_other(replicas: tuple[str, str]) -> None:
    token = TOKENS["acme"]
    everything = await call(replicas[0], token, "search_expenses", {"limit": 200})
    pages: list[str] = []
    cursor, turn = None, 0
    while True:
        arguments: dict[str, Any] = {"limit": 17} | ({"cursor": cursor} if cursor else {})
        page = await call(replicas[turn % 2], token, "search_expenses", arguments)
        pages.extend(item["id"] for item in page["items"])
        cursor, turn = page["next_cursor"], turn + 1
        if cursor is None:
            break

    assert turn > 2
    assert pages == [item["id"] for item in everything["items"]]


async def test_a_cursor_is_bound_to_the_company_that_got_it(replicas: tuple[str, str]) -> None:
    acme_page = await call(replicas[0], TOKENS["acme"], "search_expenses", {"limit": 5})

    async with http_client(replicas[1], TOKENS["globex"]) as client:
        result = await client.call_tool("search_expenses", {"limit": 5, "cursor": acme_page["next_cursor"]})

    assert result.is_error
    assert "not valid for these filters" in str(result.content[0])
