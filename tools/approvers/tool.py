"""MCP adapter for suggest_approver: arguments in, one service call, result out."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to build the schemas.
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from server.calls import tool_call, tool_result
from server.context import AppContext
from server.kit.money import AmountText
from tools.approvers import absences
from tools.approvers.arguments import Category, Currency, PaymentType, Team
from tools.approvers.schemas import SuggestApproverOutput, SuggestRequest

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

DESCRIPTION = """\
Who must approve a spend, in which order, under the company's approval policy — before buying, or
for an approval request already filed.

Pass either `request_id` (an existing approval request, e.g. APR-00042) or the request's details:
`requester` (e-mail or name) and `amount` (decimal string) at least, plus `currency` (default: the
company currency; other currencies are converted with the company's exchange rates), `category`,
`team` (default: the requester's team) and `payment_type` when known — rules may depend on them.

The answer lists the steps in order. Each step names who should act now (absences, delegates,
approval limits and the rule that nobody approves their own spend or approves twice are already
applied), the policy rule that requires it and the reason in plain words. For steps that anyone of a
group may take (finance, a shared role) `alternates` lists the other eligible people, ranked by who
usually approves this team's requests, open workload and speed. A step with status
`no_eligible_approver` cannot be filled by anyone: tell the user why (its reason) instead of picking
someone. An empty list of steps means no rule requires an approval. For a stored request, steps
already decided say `approved` or `rejected`, by whom and when. Read-only: nothing is sent to anyone.
Who is out of office on a day, and who stands in for them: the resource
`outlay://people/absences{?date}`."""


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.tool(title="Suggest approvers", description=DESCRIPTION, annotations=READ_ONLY)(suggest_approver)
    absences.register(mcp)


async def suggest_approver(
    ctx: Context[AppContext],
    request_id: Annotated[
        str | None,
        Field(
            max_length=64,
            description="An existing approval request id, e.g. 'APR-00042'. Omit to describe one.",
        ),
    ] = None,
    requester: Annotated[str | None, Field(description="Who asks: employee e-mail or full name.")] = None,
    amount: Annotated[
        AmountText | None, Field(description="Amount as a decimal string in `currency`, e.g. '8400.00'.")
    ] = None,
    currency: Currency = None,
    category: Category = None,
    team: Team = None,
    payment_type: PaymentType = None,
    description: Annotated[
        str | None, Field(max_length=2000, description="What is being bought (echoed; rules do not read it).")
    ] = None,
) -> Annotated[CallToolResult, SuggestApproverOutput]:
    request = SuggestRequest(
        request_id=request_id,
        requester=requester,
        amount=amount,
        currency=currency,
        category=category,
        team=team,
        payment_type=payment_type,
        description=description,
    )
    from tools.approvers import logic, service  # loaded by the first call, not at start-up

    async with tool_call(ctx, "suggest_approver") as call:
        answer = await service.suggest(call.session, call.caller, call.app.clock.today(), request)
    return tool_result(answer, logic.summary(answer))
