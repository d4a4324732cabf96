"""MCP adapters for search_expenses, get_expense and the `outlay://expenses/{expense_id}` resource (the
same detail, to attach): arguments in, one service call, result out."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to build the schemas.
from typing import TYPE_CHECKING, Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, Completion, CompletionArgument, ToolAnnotations
from pydantic import Field

from server import completions
from server.calls import resource_call, tool_call, tool_result
from server.context import AppContext
from server.kit.money import AmountText
from server.kit.periods import Day
from tools.expenses.schemas import ExpenseDetail, ExpenseStatusName, SearchExpensesOutput

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)

SEARCH_DESCRIPTION = """\
List the company's expenses that match all the given filters, newest first (by date, then id).

Use it to see the rows behind a number from summarize_spend, to find a specific transaction, to list
the uncategorized backlog (`uncategorized_only`) or the expenses without a receipt (`missing_receipt`).
For totals use summarize_spend instead of adding up pages.

Paging: a page holds at most `limit` items. When `next_cursor` is not null, call again with the
same filters and `cursor` set to it to get the next page; null means there is nothing more.
`total_matched` counts all matches across pages (with `total_matched_capped`: more than that many).
An empty `items` list means nothing matched.
Names (team, employee, category) are resolved like everywhere else; an ambiguous or unknown name
returns an error listing the candidates. `cost_center`, `project` and `dimensions` (the company's own
analytical fields, e.g. {"fund": "GF01"}) match values exactly; a dimension name the company does not
have returns an error listing the ones it has (summarize_spend groups by them: cost_center, project,
dim:<name>). Leave out a filter you do not use: an empty string is refused, not read as "any".
`filters` in the result echoes what was actually used, under the argument names (`merchant_text` is a
deprecated copy of `merchant`)."""

GET_DESCRIPTION = """\
One expense in full: merchant (with its merchant category code and what it means), category and who
or what set it (human, rule, model, llm) with the confidence, employee, team and its cost center, memo,
receipt status, and the approval requests behind it with every decision (step, approver, on behalf
of whom, decision, time), and the cost center, project and free dimensions (e.g. fund) the company's
export gave it. Pass an `id` from search_expenses, e.g. EXP-000123."""


EXPENSE_URI = "outlay://expenses/{expense_id}"


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.tool(title="Search expenses", description=SEARCH_DESCRIPTION, annotations=READ_ONLY)(search_expenses)
    mcp.tool(title="Get one expense", description=GET_DESCRIPTION, annotations=READ_ONLY)(get_expense)
    mcp.resource(EXPENSE_URI, name="expense", title="One expense", mime_type="application/json")(expense)


async def search_expenses(
    ctx: Context[AppContext],
    date_from: Annotated[Day | None, Field(description="First day, YYYY-MM-DD, inclusive.")] = None,
    date_to: Annotated[Day | None, Field(description="Last day, YYYY-MM-DD, inclusive.")] = None,
    team: Annotated[
        str | None,
        Field(description="Team name, e.g. 'Marketing' (the team charged; sub-teams are not included)."),
    ] = None,
    employee: Annotated[str | None, Field(description="Employee e-mail or full name.")] = None,
    merchant: Annotated[
        str | None,
        Field(description="Text contained in the merchant name or the raw statement descriptor, any case."),
    ] = None,
    category: Annotated[
        str | None, Field(description="Category code or name, e.g. 'TRAVEL' or 'Travel'.")
    ] = None,
    status: Annotated[ExpenseStatusName | None, Field(description="Only expenses in this status.")] = None,
    min_amount: Annotated[
        AmountText | None,
        Field(description="Smallest amount in company currency, a decimal string: '100.00'."),
    ] = None,
    max_amount: Annotated[
        AmountText | None, Field(description="Largest amount in company currency, a decimal string: '2500'.")
    ] = None,
    uncategorized_only: Annotated[
        bool, Field(description="Only expenses without a category (the categorization backlog).")
    ] = False,
    missing_receipt: Annotated[
        bool, Field(description="Only expenses with no receipt attached (to chase before closing).")
    ] = False,
    cost_center: Annotated[
        str | None,
        Field(
            max_length=64, description="Only expenses charged to this cost center, exactly, e.g. 'CC-410'."
        ),
    ] = None,
    project: Annotated[
        str | None, Field(max_length=64, description="Only expenses of this project, exactly.")
    ] = None,
    dimensions: Annotated[
        dict[str, str] | None,
        Field(
            description="Free dimensions of the company's expenses, name -> value, all must hold, values "
            'exactly: {"fund": "GF01", "location": "Leeds"}.'
        ),
    ] = None,
    limit: Annotated[int, Field(ge=1, le=200, description="Page size, 1 to 200.")] = 50,
    cursor: Annotated[
        str | None, Field(description="next_cursor from the previous page; omit for the first page.")
    ] = None,
) -> Annotated[CallToolResult, SearchExpensesOutput]:
    # The selection, the services and their queries (SQLAlchemy) load with the first call, not at start-up.
    from server.kit.selection import SelectionRequest
    from tools.expenses import logic, service

    request = SelectionRequest(
        date_from=date_from,
        date_to=date_to,
        team=team,
        employee=employee,
        merchant=merchant,
        category=category,
        status=status,
        min_amount=min_amount,
        max_amount=max_amount,
        uncategorized_only=uncategorized_only,
        missing_receipt=missing_receipt,
        cost_center=cost_center,
        project=project,
        dimensions=dimensions,
        limit=limit,
        cursor=cursor,
    )
    async with tool_call(ctx, "search_expenses") as call:
        secret = call.app.settings.cursor_secret.get_secret_value().encode()
        output = await service.search(call.session, call.caller, secret, request)
    return tool_result(output, logic.search_summary(output))


async def get_expense(
    ctx: Context[AppContext],
    expense_id: Annotated[
        str, Field(min_length=1, max_length=64, description="The expense id, e.g. 'EXP-000123'.")
    ],
) -> Annotated[CallToolResult, ExpenseDetail]:
    from tools.expenses import logic, service

    async with tool_call(ctx, "get_expense") as call:
        detail = await service.get_detail(call.session, call.caller, expense_id)
    return tool_result(detail, logic.detail_summary(detail))


async def expense(expense_id: str) -> str:
    """One expense in full, as get_expense returns it."""
    from tools.expenses import service

    async with resource_call("expense") as call:
        detail = await service.get_detail(call.session, call.caller, expense_id)
    return detail.model_dump_json(indent=2)


async def complete(uri: str, argument: CompletionArgument) -> Completion | None:
    """Expense ids for the resource template; None for anything else."""
    if uri == EXPENSE_URI and argument.name == "expense_id":
        return await completions.complete(_expense_ids, argument.value, argument="expense_id")
    return None


async def _expense_ids(session: "AsyncSession", company_id: int, text: str) -> list[str]:
    from tools.expenses import queries

    return await queries.refs_starting_with(session, company_id, text, limit=completions.MAX_VALUES + 1)
