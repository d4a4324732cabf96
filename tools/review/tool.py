"""MCP adapter for review_expenses: arguments in, one service call, result out."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to build the schemas.
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from server.calls import tool_call, tool_result
from server.context import AppContext
from server.kit.periods import Day, PeriodText
from tools.review.schemas import Kind, ReviewOutput, ReviewRequest, SeverityName

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

DESCRIPTION = """\
Review expenses for what a finance team must look at: breaches of the company's expense policy
(receipt_required, cap, blocked, weekend_spend, keywords, just_below_threshold) and error or fraud
patterns found with or without a policy (duplicate, split_purchase, spike, new_merchant,
round_numbers, refund_without_charge). Deterministic: each finding gives its severity, a plain reason,
the expenses involved (flagged one first), the amount at stake, the evidence (the policy clause, or the
statistic and its threshold) and a suggested action. Use it for month-end close and policy reviews
instead of scanning summarize_spend or search_expenses yourself.

Scope: `period` (2026, 2026-Q3 or 2026-07) or `date_from` (+ `date_to`, default today); with neither,
the current month to date. Narrow with `team`, `employee` or `category`; or pass `expense_ids` to get
every finding those expenses are part of (no period needed). `kinds` and `min_severity` filter the
findings. Findings come most severe first, then largest amount; `summary` counts them per kind over
the whole scope. Paging: pass `next_cursor` back with the same arguments; null means this is the last
page. `policy_version` null means no expense policy is loaded and only the patterns ran (`note` says
so). An empty `findings` list with `expenses_reviewed` 0 means the scope has no expenses.
Findings are leads for a person to check, not decisions: say so when you report them."""


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.tool(title="Review expenses", description=DESCRIPTION, annotations=READ_ONLY)(review_expenses)


async def review_expenses(
    ctx: Context[AppContext],
    period: Annotated[
        PeriodText | None, Field(description="A year '2026', a quarter '2026-Q3' or a month '2026-07'.")
    ] = None,
    date_from: Annotated[
        Day | None, Field(description="First day, YYYY-MM-DD, inclusive (instead of period).")
    ] = None,
    date_to: Annotated[
        Day | None, Field(description="Last day, YYYY-MM-DD, inclusive; default today (with date_from).")
    ] = None,
    team: Annotated[
        str | None, Field(description="Only this team's expenses, by name, e.g. 'Marketing'.")
    ] = None,
    employee: Annotated[
        str | None, Field(description="Only this employee's expenses, by e-mail or name.")
    ] = None,
    category: Annotated[
        str | None, Field(description="Only this category, by code or name, e.g. 'MEALS'.")
    ] = None,
    expense_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
        Field(
            max_length=100,
            description="Only the findings these expenses are part of, by id, e.g. ['EXP-000123'] (1-100).",
        ),
    ] = None,
    kinds: Annotated[
        list[Kind] | None, Field(description="Only these kinds of finding, e.g. ['duplicate', 'cap'].")
    ] = None,
    min_severity: Annotated[
        SeverityName | None, Field(description="Only findings at least this severe: high, medium or low.")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Findings per page, 1 to 100.")] = 25,
    cursor: Annotated[
        str | None, Field(description="next_cursor from the previous page; omit for the first page.")
    ] = None,
) -> Annotated[CallToolResult, ReviewOutput]:
    request = ReviewRequest(
        period=period,
        date_from=date_from,
        date_to=date_to,
        team=team,
        employee=employee,
        category=category,
        expense_ids=tuple(expense_ids or ()),
        kinds=tuple(kinds or ()),
        min_severity=min_severity,
        limit=limit,
        cursor=cursor,
    )
    from tools.review import service  # loaded by the first call, not at start-up

    async with tool_call(ctx, "review_expenses") as call:
        secret = call.app.settings.cursor_secret.get_secret_value().encode()
        output = await service.review(
            call.session, call.caller, call.app.clock.today(), secret, request, call.app.reviews
        )
    return tool_result(output, service.summary_text(output))
