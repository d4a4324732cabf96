"""MCP adapter for summarize_spend: arguments in, one service call, result out."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to build the schemas.
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from server.calls import tool_call, tool_result
from server.context import AppContext
from server.kit.periods import Day, PeriodText
from tools.spend import logic
from tools.spend.schemas import GroupBy, SpendSummary, SummaryRequest

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

DESCRIPTION = """\
Total spend and number of expenses over a period, grouped by category, team, merchant, employee,
month, cost center, project or one of the company's free dimensions (`dim:<name>`, e.g. `dim:fund`),
in the company currency. Use it for "how much did we spend on X" questions; then use search_expenses
with the same filters (and `cost_center`, `project` or `dimensions` for those groups) to list the rows
behind a group.

The period is either `period` (2026, 2026-Q3 or 2026-07), or `date_from` (+ optional `date_to`,
default today), both inclusive; with neither it is the current month to date (the server's today).
Groups come largest first (month: every month of the period in order, empty months as 0); grouping
by category adds an 'Uncategorized' bucket (key null) for expenses not categorized yet, and grouping
by cost center, project or a dimension a 'No ...' group (key null) for expenses without a value. A
dimension name the company does not have returns an error listing the ones it has. At most `top`
groups are listed; the rest are added together in `others`. Refunds count negative. An empty
`groups` list means no spend matched."""


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.tool(title="Summarize spend", description=DESCRIPTION, annotations=READ_ONLY)(summarize_spend)


async def summarize_spend(
    ctx: Context[AppContext],
    group_by: Annotated[
        GroupBy,
        Field(
            description="The dimension to total by: category, team, merchant, employee, month, cost_center, "
            "project, or dim:<name> for a free dimension of the company's expenses (e.g. dim:fund)."
        ),
    ] = "category",
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
        str | None, Field(description="Only this team's spend (the team charged; sub-teams not included).")
    ] = None,
    category: Annotated[str | None, Field(description="Only this category, by code or name.")] = None,
    employee: Annotated[
        str | None, Field(description="Only this employee's spend, by e-mail or name.")
    ] = None,
    top: Annotated[
        int,
        Field(ge=1, le=500, description="How many groups to list, largest first; the rest go to `others`."),
    ] = 25,
) -> Annotated[CallToolResult, SpendSummary]:
    request = SummaryRequest(
        group_by=group_by,
        period=period,
        date_from=date_from,
        date_to=date_to,
        team=team,
        category=category,
        employee=employee,
        top=top,
    )
    from tools.spend import service  # its queries (SQLAlchemy) load with the first call, not at start-up

    async with tool_call(ctx, "summarize_spend") as call:
        summary = await service.summarize(call.session, call.caller, call.app.clock.today(), request)
    return tool_result(summary, logic.summary_text(summary))
