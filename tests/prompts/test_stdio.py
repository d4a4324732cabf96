"""The prompts as Claude Desktop meets them: `outlay serve --transport stdio` as a subprocess."""

from __future__ import annotations

import pytest
from mcp import Client, MCPError
from mcp_types import INVALID_PARAMS, EmbeddedResource, PromptReference, TextContent

from tests.transports.test_stdio import stdio_server

pytestmark = pytest.mark.anyio


async def test_list_render_complete_and_refuse_over_stdio(seeded_url: str) -> None:
    async with Client(stdio_server(seeded_url, "globex")) as client:
        names = [prompt.name for prompt in (await client.list_prompts()).prompts]
        result = await client.get_prompt("budget_check", {"team": "marketing", "period": "2026-Q3"})
        requester = PromptReference(name="approval_triage")
        people = (await client.complete(requester, {"name": "requester", "value": "h"})).completion
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("budget_check", {"team": "Mktg", "period": "2026-Q3"})

    assert names == [
        "month_end_close",
        "budget_check",
        "approval_triage",
        "categorize_backlog",
        "spend_review",
        "policy_review",
    ]
    [text, budgets] = [message.content for message in result.messages]
    assert isinstance(text, TextContent)
    assert 'forecast_budget(team="Marketing", period="2026-Q3")' in text.text
    assert isinstance(budgets, EmbeddedResource)
    assert str(budgets.resource.uri) == "outlay://budgets/2026-Q3"
    assert people.values == ["hank@globex.example"]
    assert (raised.value.code, raised.value.error.message) == (
        INVALID_PARAMS,
        "team: no team named 'Mktg'; did you mean 'Marketing'?",
    )
