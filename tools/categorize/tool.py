"""MCP adapters for categorize_expense, categorize_expenses and recategorize_expense: arguments in, one
service call, result out."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to build the schemas.
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import AcceptedElicitation, Elicit, ElicitationResult, Resolve
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from server.calls import tool_call, tool_result
from server.context import AppContext
from server.errors import InvalidArgument
from server.kit.money import AmountText
from server.kit.periods import Day
from tools.categorize import logic
from tools.categorize.schemas import (
    CategorizeExpenseOutput,
    CategorizeExpensesOutput,
    RawExpense,
    RecategorizeExpenseOutput,
)

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
# Writes only where there is no category yet, and the same call twice writes nothing more.
FILLS_BLANKS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
# Replaces a category someone may have set (the one before stays in the record of data changes), and
# the same call twice changes nothing more.
CORRECTS = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)
MCC = Annotated[
    str | None, Field(pattern=r"^\d{4}$", description="4-digit merchant category code, e.g. '5812'.")
]

ONE_DESCRIPTION = """\
The company's own category for one expense: pass an `expense_id` (e.g. EXP-000123), or raw details of a
charge that is not in the books yet (at least `descriptor`, the card-statement text; `memo`, `amount` +
`currency`, `mcc`, `team` make the answer better). Read-only: nothing is written.

The answer has the best category with a calibrated confidence, up to three alternatives, which stage
decided (`source`), a one-line reason, and `needs_review` when the confidence is below the company's
review threshold: then show the alternatives to a human rather than picking one yourself. `degraded`
lists the sources that should have been asked and were not reachable (e.g. the LLM while its provider
is down) and what answered instead: tell the user the answer is a fallback. For many expenses, or to
write confident categories, use categorize_expenses."""

BATCH_DESCRIPTION = """\
Categorize many expenses at once: the listed `expense_ids`, or else the uncategorized backlog matching
the filters (date range, team, employee, merchant text), newest first, `limit` per call; pass the
returned `next_cursor` with the same filters for the next batch.

With `apply=true`, answers at or above the company's auto-apply threshold are written to expenses that
have no category yet (a category someone set is never changed; LLM-decided answers are only
suggested). The server asks the user to confirm first when the client supports it; otherwise ask the
user yourself before calling with apply=true. `dry_run=true` shows what would be written without
writing. Calling again with the same arguments writes nothing new. Each item says its `outcome`, and in
`degraded` which source could not be reached for it (e.g. the LLM while its provider is down);
`counts` and `sources` sum them up. Progress is reported while it runs.

`whole_backlog=true` (with `apply=true`, without ids or cursor) works through the entire matching backlog
at once as a job: when the server has a job queue the call returns at once with `job` (follow it with
get_job, which gives the counts when done); without one it runs to the end within the call. The
`idempotency_key` makes a repeated call return the same job instead of starting another."""


RECATEGORIZE_DESCRIPTION = """\
Correct an expense's category: a person's decision, e.g. "EXP-000123 is travel, not meals". Pass the
`expense_id` and the `category` (code or name), and optionally the person's `reason`. The category is
then set by a person (it replaces whatever was there, including a category someone set before) and the
categorizer takes the correction into account at once for the merchant's other expenses.

Only call this when the user asked for the change; the server asks the user to confirm when the client
supports it. `dry_run=true` shows the change without writing it. Setting the category the expense
already has from a person changes nothing, so calling again is safe. To categorize expenses that have
no category yet, use categorize_expenses."""


class ApplyConfirmation(BaseModel):
    confirm: bool = Field(description="Write the confident categories to the uncategorized expenses.")


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.tool(title="Categorize one expense", description=ONE_DESCRIPTION, annotations=READ_ONLY)(
        categorize_expense
    )
    mcp.tool(title="Categorize expenses", description=BATCH_DESCRIPTION, annotations=FILLS_BLANKS)(
        categorize_expenses
    )
    mcp.tool(
        title="Correct an expense's category", description=RECATEGORIZE_DESCRIPTION, annotations=CORRECTS
    )(recategorize_expense)


async def categorize_expense(
    ctx: Context[AppContext],
    expense_id: Annotated[
        str | None,
        Field(max_length=64, description="An expense id, e.g. 'EXP-000123'; or give `descriptor`."),
    ] = None,
    descriptor: Annotated[
        str | None,
        Field(max_length=200, description="Raw card-statement text, e.g. 'UBER *TRIP HELP.UBER.COM'."),
    ] = None,
    memo: Annotated[str | None, Field(max_length=2000, description="The spender's note, if any.")] = None,
    amount: Annotated[
        AmountText | None, Field(description="Amount as a decimal string, e.g. '42.50'.")
    ] = None,
    currency: Annotated[
        str | None,
        Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code of `amount`; default: company's."),
    ] = None,
    mcc: MCC = None,
    merchant: Annotated[
        str | None, Field(max_length=200, description="Clean merchant name, if known.")
    ] = None,
    team: Annotated[str | None, Field(description="Team charged, by name.")] = None,
) -> Annotated[CallToolResult, CategorizeExpenseOutput]:
    from tools.categorize import service  # numpy and scipy load with the first call, not at start-up

    async with tool_call(ctx, "categorize_expense") as call:
        ref, raw = _one_of(
            expense_id, RawExpense(descriptor or "", memo, amount, currency, mcc, merchant, team)
        )
        output = await service.categorize_one(call.app, call.session, call.caller, ref=ref, raw=raw)
    return tool_result(output, logic.one_summary(output))


async def confirm_apply(
    ctx: Context[AppContext], apply: bool, dry_run: bool
) -> ApplyConfirmation | Elicit[ApplyConfirmation]:
    """Ask before writing, when a write is requested and the client can be asked."""
    capabilities = ctx.client_capabilities
    if not apply or dry_run or capabilities is None or capabilities.elicitation is None:
        return ApplyConfirmation(confirm=True)
    return Elicit(
        "Write the categories the categorizer is confident about to the selected uncategorized expenses? "
        "Categories someone already set are never changed.",
        ApplyConfirmation,
    )


async def categorize_expenses(
    ctx: Context[AppContext],
    confirmation: Annotated[ElicitationResult[ApplyConfirmation], Resolve(confirm_apply)],
    expense_ids: Annotated[
        list[str] | None,
        Field(
            max_length=1000,
            description=(
                "Expense ids to categorize; omit (not an empty list) to work on the uncategorized backlog."
            ),
        ),
    ] = None,
    date_from: Annotated[Day | None, Field(description="Backlog filter: first day, YYYY-MM-DD.")] = None,
    date_to: Annotated[Day | None, Field(description="Backlog filter: last day, YYYY-MM-DD.")] = None,
    team: Annotated[str | None, Field(description="Backlog filter: team name.")] = None,
    employee: Annotated[str | None, Field(description="Backlog filter: employee e-mail or name.")] = None,
    merchant: Annotated[
        str | None, Field(description="Backlog filter: text in the merchant or descriptor.")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=1000, description="Backlog expenses per call, 1 to 1000.")] = 200,
    cursor: Annotated[str | None, Field(description="next_cursor from the previous batch.")] = None,
    apply: Annotated[bool, Field(description="Write answers at or above the auto-apply threshold.")] = False,
    dry_run: Annotated[
        bool, Field(description="With apply: report what would be written, write nothing.")
    ] = False,
    whole_backlog: Annotated[
        bool, Field(description="With apply: the entire matching backlog as one job (see get_job).")
    ] = False,
    idempotency_key: Annotated[
        str | None, Field(max_length=200, description="With whole_backlog: the same key, the same job.")
    ] = None,
) -> Annotated[CallToolResult, CategorizeExpensesOutput]:
    # numpy, scipy and the queries (SQLAlchemy) load with the first call, not at start-up
    from tools.categorize import backlog_job, service

    confirmed = isinstance(confirmation, AcceptedElicitation) and confirmation.data.confirm
    async with tool_call(ctx, "categorize_expenses") as call:
        secret = call.app.settings.cursor_secret.get_secret_value().encode()
        selection = logic.Selection(expense_ids, date_from, date_to, team, employee, merchant, limit, cursor)
        if whole_backlog:
            backlog = backlog_job.Request(selection, apply, dry_run, confirmed, idempotency_key)
            output = await backlog_job.start(call.app, call.session, call.caller, backlog)
            return tool_result(output, logic.batch_summary(output, declined=apply and not confirmed))
        batch = await service.select_batch(call.session, call.caller, secret, selection)
        output = await service.categorize_batch(
            call.app,
            call.session,
            call.caller,
            batch,
            apply=apply and confirmed,
            dry_run=dry_run,
            progress=ctx.report_progress,
        )
    return tool_result(output, logic.batch_summary(output, declined=apply and not dry_run and not confirmed))


class RecategorizeConfirmation(BaseModel):
    confirm: bool = Field(description="Set the expense's category as requested.")


async def confirm_recategorize(
    ctx: Context[AppContext], expense_id: str, category: str, dry_run: bool
) -> RecategorizeConfirmation | Elicit[RecategorizeConfirmation]:
    """Ask before writing, when the client can be asked (a dry run writes nothing)."""
    capabilities = ctx.client_capabilities
    if dry_run or capabilities is None or capabilities.elicitation is None:
        return RecategorizeConfirmation(confirm=True)
    return Elicit(
        f"Set the category of expense {expense_id.strip()} to {category.strip()!r}? "
        "It replaces the current category, and the categorizer learns from it.",
        RecategorizeConfirmation,
    )


async def recategorize_expense(
    ctx: Context[AppContext],
    confirmation: Annotated[ElicitationResult[RecategorizeConfirmation], Resolve(confirm_recategorize)],
    expense_id: Annotated[
        str, Field(max_length=64, description="The expense to correct, e.g. 'EXP-000123'.")
    ],
    category: Annotated[
        str, Field(max_length=200, description="The right category, by code or name, e.g. 'TRAVEL'.")
    ],
    reason: Annotated[
        str | None, Field(max_length=500, description="Why, in the person's words; kept with the correction.")
    ] = None,
    dry_run: Annotated[bool, Field(description="Report the change without writing it.")] = False,
) -> Annotated[CallToolResult, RecategorizeExpenseOutput]:
    from tools.categorize import recategorize  # its queries (SQLAlchemy) load with the first call

    confirmed = isinstance(confirmation, AcceptedElicitation) and confirmation.data.confirm
    async with tool_call(ctx, "recategorize_expense") as call:
        request = recategorize.Request(expense_id, category, reason, dry_run, confirmed)
        output = await recategorize.recategorize(call.session, call.caller, request)
    return tool_result(output, output.message)


def _one_of(expense_id: str | None, raw: RawExpense) -> tuple[str | None, RawExpense | None]:
    if expense_id and expense_id.strip():
        if raw.descriptor.strip():
            raise InvalidArgument("pass either expense_id or descriptor (raw details), not both")
        return expense_id, None
    if not raw.descriptor.strip():
        raise InvalidArgument("pass expense_id, or the raw details of a charge with at least descriptor")
    return None, raw
