"""What an agent sees before calling anything: names, annotations, schemas, and results that honour them."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs ship with it; it comes with mcp
import pytest
from mcp import Client
from mcp_types import ToolAnnotations

from tests.world import TOOLS

pytestmark = pytest.mark.anyio

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("search_expenses", {"limit": 5}),
    ("search_expenses", {"uncategorized_only": True, "limit": 200}),
    ("search_expenses", {"merchant": "nothing matches this"}),
    ("get_expense", {"expense_id": "EXP-000100"}),
    ("get_expense", {"expense_id": "EXP-000035"}),
    ("summarize_spend", {}),
    ("summarize_spend", {"period": "2026", "group_by": "month"}),
    ("summarize_spend", {"period": "2026", "group_by": "category"}),
    ("summarize_spend", {"period": "2019"}),
    ("suggest_approver", {"request_id": "APR-0001"}),
    ("suggest_approver", {"requester": "Ann Lee", "amount": "6000", "currency": "USD"}),
    ("categorize_expense", {"expense_id": "EXP-000100"}),
    ("categorize_expense", {"descriptor": "UBER *TRIP", "mcc": "4121"}),
    ("categorize_expenses", {"limit": 20}),
    ("recategorize_expense", {"expense_id": "EXP-000001", "category": "OFFICE", "dry_run": True}),
    ("forecast_budget", {"team": "Marketing", "period": "2026"}),
    ("forecast_budget", {"team": "Engineering", "chart": True}),
    ("forecast_budgets", {}),
    ("submit_spend_request", {"requester": "Ann Lee", "amount": "100", "dry_run": True}),
]


# The tools that write: one fills empty categories and never changes one; the other replaces one
# expense's category (destructive: the category before is gone but for the record of data changes).
# Both are idempotent.
WRITES = {
    "categorize_expenses": ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    ),
    "recategorize_expense": ToolAnnotations(
        read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
    ),
    # Files a request: again without an idempotency key, it files another one.
    "submit_spend_request": ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
    ),
    # A decision stands (destructive: it cannot be taken back); the same call again is refused.
    "decide_approval": ToolAnnotations(
        read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
    ),
}


async def test_every_tool_but_the_writers_is_read_only_closed_world_and_documented(acme: Client) -> None:
    tools = {tool.name: tool for tool in (await acme.list_tools()).tools}

    assert sorted(tools) == sorted(TOOLS)
    for tool in tools.values():
        assert tool.annotations == WRITES.get(
            tool.name,
            ToolAnnotations(
                read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
            ),
        )
        assert tool.title
        assert tool.description
        assert tool.output_schema
        parameters = tool.input_schema["properties"]
        assert all(spec.get("description") for spec in parameters.values()), tool.name
        assert "ctx" not in parameters


async def test_structured_content_matches_the_advertised_output_schema(acme: Client) -> None:
    schemas = {tool.name: tool.output_schema for tool in (await acme.list_tools()).tools}

    for name, arguments in CALLS:
        result = await acme.call_tool(name, arguments)
        assert not result.is_error, result.content
        jsonschema.validate(result.structured_content, schemas[name])
