"""stdio, the way Claude Desktop runs the server: a subprocess speaking only protocol on stdout."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp_types import TextContent

from tests.transports.conftest import OUTLAY, server_env
from tests.world import ACME_EXPENSES, GLOBEX_EXPENSES, TOOLS

pytestmark = pytest.mark.anyio


def stdio_server(database_url: str, company: str) -> StdioServerParameters:
    env = server_env(database_url, OUTLAY_COMPANY=company)
    return StdioServerParameters(command=OUTLAY, args=["serve", "--transport", "stdio"], env=env)


async def structured(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_stdio_lists_and_calls_every_tool(seeded_url: str, mode: str) -> None:
    async with Client(stdio_server(seeded_url, "acme"), mode=mode) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        summary = await structured(client, "summarize_spend", {"group_by": "team", "period": "2026"})
        page = await structured(client, "search_expenses", {"limit": 5})
        expense = await structured(client, "get_expense", {"expense_id": page["items"][0]["id"]})
        chain = await structured(client, "suggest_approver", {"requester": "Ann Lee", "amount": "6000"})
        categorized = await structured(client, "categorize_expense", {"expense_id": expense["id"]})

    assert tools == set(TOOLS)
    assert categorized["expense_id"] == expense["id"]
    assert chain["rules_applied"] == ["Large spend"]
    assert summary["currency"] == "EUR"
    assert len(page["items"]) == 5
    assert expense["id"] == page["items"][0]["id"]


@pytest.mark.parametrize(
    ("company", "expenses", "currency"),
    [("acme", ACME_EXPENSES + 1, "EUR"), ("globex", GLOBEX_EXPENSES + 1, "USD")],
)
async def test_stdio_serves_only_the_configured_company(
    seeded_url: str, company: str, expenses: int, currency: str
) -> None:
    async with Client(stdio_server(seeded_url, company)) as client:
        page = await structured(client, "search_expenses", {"limit": 1})
        summary = await structured(client, "summarize_spend", {"period": "2026"})

    assert page["total_matched"] == expenses
    assert summary["currency"] == currency


async def refusal(env: dict[str, str]) -> list[str]:
    """What a stdio server started with `env` answers a tool call that it refuses."""
    params = StdioServerParameters(command=OUTLAY, args=["serve", "--transport", "stdio"], env=env)
    async with Client(params) as client:
        result = await client.call_tool("search_expenses", {"limit": 1})
    assert result.is_error
    return [block.text for block in result.content if isinstance(block, TextContent)]


async def test_stdio_without_a_company_names_the_ones_there_are(seeded_url: str) -> None:
    assert await refusal(server_env(seeded_url)) == [
        "Error executing tool search_expenses: "
        "Several companies are loaded: set OUTLAY_COMPANY to one of: acme, globex."
    ]


@pytest.mark.parametrize("company", ["", "acme"])
async def test_stdio_on_an_empty_database_says_how_to_load_a_company(database_url: str, company: str) -> None:
    env = server_env(database_url, **({"OUTLAY_COMPANY": company} if company else {}))

    assert await refusal(env) == [
        "Error executing tool search_expenses: "
        "No company is loaded: run `outlay import FOLDER` (or `outlay demo` for a demo company) to load one."
    ]
