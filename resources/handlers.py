"""MCP resources (reference data an agent can attach) and the completions for their templates.

Static resources and completions get no Context in mcp 2.x: `resource_call` / `completion_call` find
the app and the caller through the request-scoped binding in `server.calls`. The queries (SQLAlchemy),
the documents' models and the policies they parse load with the first read, not at start-up (0.04 s
of CPU without SQLAlchemy). The server's one completion handler (server/app.py) sends template
references here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server import completions
from server.calls import resource_call
from server.db.values import utc
from server.errors import InvalidArgument, NotFound
from server.kit.periods import PERIOD_HELP, YEARS_HELP, parse_period

if TYPE_CHECKING:
    from mcp.server import MCPServer
    from mcp_types import Completion, CompletionArgument

    from server.context import AppContext

JSON = "application/json"
BUDGETS_URI = "outlay://budgets/{period}"
NO_SNAPSHOT = (
    "No forecast snapshot yet: the workers take one nightly when a job queue runs (docs/jobs.md). "
    "forecast_budgets ranks the running budgets now."
)


def register(mcp: MCPServer[AppContext]) -> None:
    for uri, name, title, handler in (
        ("outlay://categories", "categories", "Expense categories", categories),
        ("outlay://teams", "teams", "Teams", teams),
        ("outlay://policy/approvals", "approval_policy", "Approval policy", approval_policy),
        ("outlay://policy/expenses", "expense_policy", "Expense policy", expense_policy),
        (BUDGETS_URI, "budgets", "Budgets of a period", budgets),
        ("outlay://forecasts/latest", "forecasts_latest", "Budget forecasts, last night", latest_forecasts),
    ):
        mcp.resource(uri, name=name, title=title, mime_type=JSON)(handler)


async def categories() -> str:
    """The company's expense categories: code, name, parent, GL account, VAT rate, typical MCCs."""
    from resources import logic, queries
    from resources.schemas import CategoriesDoc

    async with resource_call("categories") as call:
        rows = await queries.categories(call.session, call.caller.company_id)
        doc = CategoriesDoc(
            company=call.caller.company_name,
            categories=logic.category_docs(rows),
        )
    return doc.model_dump_json(indent=2)


async def latest_forecasts() -> str:
    """Every running budget ranked by overrun risk, as the nightly forecast job last stored it (with its
    date); says so when no snapshot was taken yet (forecast_budgets answers live)."""
    from resources import queries
    from resources.schemas import ForecastsDoc

    async with resource_call("forecasts_latest") as call:
        found = await queries.latest_forecast(call.session, call.caller.company_id)
        doc = ForecastsDoc(
            company=call.caller.company_name,
            taken_at=None if found is None else utc(found.created_at),
            snapshot=None if found is None else found.payload,
            note=None if found is not None else NO_SNAPSHOT,
        )
    return doc.model_dump_json(indent=2)


async def teams() -> str:
    """The team hierarchy with each team's manager, cost center and headcount."""
    from resources import logic, queries
    from resources.schemas import TeamsDoc

    async with resource_call("teams") as call:
        rows = await queries.teams(call.session, call.caller.company_id)
        counts = await queries.headcounts(call.session, call.caller.company_id)
        doc = TeamsDoc(company=call.caller.company_name, teams=logic.team_tree(rows, counts))
    return doc.model_dump_json(indent=2)


async def approval_policy() -> str:
    """The approval policy in force (its highest version): which rules require whose approval."""
    from resources import queries
    from resources.schemas import PolicyDoc

    async with resource_call("approval_policy") as call:
        policy = await queries.current_policy(call.session, call.caller.company_id)
        if policy is None:
            raise NotFound("no approval policy is loaded for this company")
        doc = PolicyDoc(
            company=call.caller.company_name,
            version=policy.version,
            created_at=utc(policy.created_at),
            policy=policy.document,
        )
    return doc.model_dump_json(indent=2)


async def expense_policy() -> str:
    """The expense policy in force (its highest version): the rules review_expenses checks every expense
    against, and its pattern settings; without one, the patterns it looks for by default."""
    from resources import logic
    from server.kit.expense_policies import expense_policy_in_force

    async with resource_call("expense_policy") as call:
        found = await expense_policy_in_force(call.session, call.caller.company_id)
        doc = logic.expense_policy_doc(call.caller.company_name, call.caller.currency, found)
    return doc.model_dump_json(indent=2)


async def budgets(period: str) -> str:
    """Budgets overlapping a period (2026, 2026-Q3 or 2026-07): team, optional category, amount."""
    from resources import logic, queries
    from resources.schemas import BudgetsDoc

    async with resource_call("budgets") as call:
        try:
            wanted = parse_period(period)
        except InvalidArgument:
            raise NotFound(f"no budget period {period!r}: use {PERIOD_HELP}, in {YEARS_HELP}") from None
        rows = await queries.budgets_overlapping(
            call.session, call.caller.company_id, wanted.start, wanted.end
        )
        doc = BudgetsDoc(
            company=call.caller.company_name,
            period=wanted.label,
            date_from=wanted.start,
            date_to=wanted.end,
            currency=call.caller.currency,
            budgets=logic.budget_docs(rows),
        )
    return doc.model_dump_json(indent=2)


async def complete(uri: str, argument: CompletionArgument) -> Completion | None:
    """Values for a template's variable; None for anything else (an empty completion)."""
    if uri == BUDGETS_URI and argument.name == "period":
        return await completions.complete(completions.budget_periods, argument.value, argument="period")
    return None
