"""MCP adapters for submit_spend_request and decide_approval: arguments in, one use case, result out."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to build the schemas.
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import AcceptedElicitation, Elicit, ElicitationResult, Resolve
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from server.calls import tool_call, tool_result
from server.context import AppContext
from server.kit.money import AmountText
from tools.approvers.acting_schemas import DecideApprovalOutput, DecisionName, SubmitSpendRequestOutput
from tools.approvers.arguments import Category, Currency, PaymentType, Team

# Adds a request; with an idempotency key, the same call again adds nothing (without one, it files again).
FILES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
# Adds a decision, which stands: the same call again is refused (the step is decided) and changes nothing.
DECIDES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

SUBMIT_DESCRIPTION = """\
File a spend request for approval, under the company's approval policy: the chain of approvers is the
one suggest_approver computes (call it first and show it to the user). Pass `amount` (decimal string)
and, when known, `currency`, `category`, `team`, `payment_type` and `description`.

The requester is the user you act for (their token or OUTLAY_USER names them): leave out `requester`.
Only a service without a user passes `requester`; the request then records that it was filed on their
behalf. Only call this when the user asked to file; the server asks them to confirm when the client
supports it. `dry_run=true` shows what would be filed without writing. Pass an `idempotency_key` (any
text unique to this request) so that a retry after a lost answer does not file twice: the same key
returns the request filed before.

The answer gives the new `request_id` (e.g. APR-00042), the chain, and who must decide first
(`waiting_on`). A request that no rule requires approving is not filed (outcome `not_required`); one
whose chain has a step nobody can take is refused with the reason: tell the user, do not retry."""

DECIDE_DESCRIPTION = """\
Approve or reject the current step of an approval request, as the person it waits on. Pass
`request_id` (e.g. APR-00042), `decision` (`approve` or `reject`) and a `comment` (required to reject:
the reason the requester will read). Optionally pass `step`, the step number you saw in
suggest_approver: if the request moved on since, the call is refused rather than deciding another step.

Only the user the step is assigned to, or the delegate acting for them while they are away, may decide;
never the requester, nobody twice on one request, and a token without a user never. A refusal says why
and whom the step waits on: tell the user, do not retry as someone else. Only call this when the user
decided; the server asks them to confirm when the client supports it. `dry_run=true` checks the
decision and shows its effect without writing. A rejection ends the request; approving the last step
approves it. The answer gives the request's status and who decides next (`next_step`)."""


class SubmitConfirmation(BaseModel):
    confirm: bool = Field(description="File this spend request for approval.")


class DecideConfirmation(BaseModel):
    confirm: bool = Field(description="Record this decision.")


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.tool(title="File a spend request", description=SUBMIT_DESCRIPTION, annotations=FILES)(
        submit_spend_request
    )
    mcp.tool(title="Decide an approval", description=DECIDE_DESCRIPTION, annotations=DECIDES)(decide_approval)


def _can_ask(ctx: Context[AppContext], dry_run: bool) -> bool:
    capabilities = ctx.client_capabilities
    return not dry_run and capabilities is not None and capabilities.elicitation is not None


async def confirm_submit(
    ctx: Context[AppContext], amount: str, currency: str | None, dry_run: bool
) -> SubmitConfirmation | Elicit[SubmitConfirmation]:
    """Ask before filing, when the client can be asked (a dry run writes nothing)."""
    if not _can_ask(ctx, dry_run):
        return SubmitConfirmation(confirm=True)
    money = f"{str(amount).strip()} {(currency or '').strip().upper()}".strip()
    return Elicit(f"File a spend request of {money} for approval?", SubmitConfirmation)


async def submit_spend_request(
    ctx: Context[AppContext],
    confirmation: Annotated[ElicitationResult[SubmitConfirmation], Resolve(confirm_submit)],
    amount: Annotated[
        AmountText, Field(description="Amount as a decimal string in `currency`, e.g. '8400.00'.")
    ],
    requester: Annotated[
        str | None,
        Field(max_length=200, description="Only for a token without a user: who asks (e-mail or name)."),
    ] = None,
    currency: Currency = None,
    category: Category = None,
    team: Team = None,
    payment_type: PaymentType = None,
    description: Annotated[
        str | None, Field(max_length=2000, description="What is being bought, for the approvers.")
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Field(
            max_length=200, description="Any text unique to this request: a retry with it files nothing new."
        ),
    ] = None,
    dry_run: Annotated[bool, Field(description="Show what would be filed without writing.")] = False,
) -> Annotated[CallToolResult, SubmitSpendRequestOutput]:
    from tools.approvers import filing  # loaded by the first call, not at start-up

    confirmed = isinstance(confirmation, AcceptedElicitation) and confirmation.data.confirm
    submission = filing.Submission(
        requester,
        amount,
        currency,
        category,
        team,
        payment_type,
        description,
        idempotency_key,
        dry_run,
        confirmed,
    )
    async with tool_call(ctx, "submit_spend_request") as call:
        output = await filing.submit(call.session, call.caller, call.app.clock.today(), submission)
    return tool_result(output, output.message)


async def confirm_decide(
    ctx: Context[AppContext], request_id: str, decision: DecisionName, dry_run: bool
) -> DecideConfirmation | Elicit[DecideConfirmation]:
    """Ask before recording, when the client can be asked (a dry run writes nothing)."""
    if not _can_ask(ctx, dry_run):
        return DecideConfirmation(confirm=True)
    return Elicit(
        f"{str(decision).capitalize()} approval request {str(request_id).strip()}?", DecideConfirmation
    )


async def decide_approval(
    ctx: Context[AppContext],
    confirmation: Annotated[ElicitationResult[DecideConfirmation], Resolve(confirm_decide)],
    request_id: Annotated[str, Field(max_length=64, description="The approval request, e.g. 'APR-00042'.")],
    decision: Annotated[DecisionName, Field(description="approve or reject the step that waits on you.")],
    comment: Annotated[
        str | None,
        Field(
            max_length=2000, description="The decider's words; required to reject (the requester reads it)."
        ),
    ] = None,
    step: Annotated[
        int | None,
        Field(ge=1, le=100, description="The step you mean to decide; refused if the request moved on."),
    ] = None,
    dry_run: Annotated[
        bool, Field(description="Check the decision and show its effect without writing.")
    ] = False,
) -> Annotated[CallToolResult, DecideApprovalOutput]:
    from tools.approvers import deciding  # loaded by the first call, not at start-up

    confirmed = isinstance(confirmation, AcceptedElicitation) and confirmation.data.confirm
    verdict = deciding.Verdict(request_id, decision, comment, step, dry_run, confirmed)
    async with tool_call(ctx, "decide_approval") as call:
        output = await deciding.decide(call.session, call.caller, call.app.clock.today(), verdict)
    return tool_result(output, output.message)
