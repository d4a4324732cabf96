"""Composition root: builds the MCP server and registers every capability (the only place the core
imports capabilities)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from mcp.server import MCPServer
from mcp.server.auth.settings import AuthSettings
from pydantic import AnyHttpUrl

import resources
from server.auth import READ_SCOPE, ApiKeyVerifier
from server.calls import observe_request
from server.context import AppContext
from server.runtime import Runtime
from server.settings import Settings
from tools import approvers, categorize, expenses, forecast, spend

INSTRUCTIONS = """\
Outlay answers questions about one company's spend: card transactions, expense reports, budgets and
approvals. You only ever see the company your credentials belong to.

- Amounts are decimal strings with an ISO 4217 currency ("1234.50" EUR). Totals are in the company
  currency; each expense also keeps its original amount and currency.
- Dates are YYYY-MM-DD; date ranges are inclusive. "Today" comes from the server, not your own clock.
  Periods are a year (2026), a quarter (2026-Q3) or a month (2026-07); summarize_spend defaults to
  the current month to date.
- Name people by e-mail or name, teams by name, categories by code or name. An ambiguous or unknown
  name returns an error that lists the candidates: pick one and call again.
- Use summarize_spend for totals ("how much did Marketing spend on travel last quarter?"), then
  search_expenses to list the rows behind a number, then get_expense for one row's full detail.
- search_expenses pages results: pass the returned next_cursor unchanged to get the next page; no
  next_cursor means you have everything. An empty list means nothing matched the filters.
- categorize_expense gives the company's own category for one expense (or raw statement details), with
  a calibrated confidence and alternatives; when needs_review is true, show the alternatives to a human
  instead of choosing. categorize_expenses works through the uncategorized backlog; only with
  apply=true does it write, and only confident answers onto expenses that have no category yet.
- forecast_budget answers "will this team stay within its budget?": the expected period total with
  80%/95% intervals, the overrun probability, the projected overrun date, the monthly path and what
  drives the change. forecast_budgets ranks every running budget by overrun risk ("which budgets are
  at risk?"). Both say which model ran and when they fell back to a simpler one.
- Resources outlay://categories, outlay://teams, outlay://policy/approvals, outlay://budgets/{period}
  and outlay://expenses/{expense_id} give reference data to attach to the conversation.
"""


def build_server(
    settings: Settings, *, local_company: str | None, runtime: Runtime | None = None
) -> MCPServer[AppContext]:
    """The MCP server. `local_company` serves callers without a token (stdio, in-memory); HTTP serving
    passes None so that only a valid bearer token identifies a company."""
    runtime = runtime or Runtime(settings, local_company=local_company)

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppContext]) -> AsyncIterator[AppContext]:
        async with runtime.open() as app:
            yield app

    verifier, auth = _bearer_auth(settings)
    mcp = MCPServer[AppContext](
        "outlay",
        title="Outlay spend tools",
        version=version("outlay"),
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        middleware=[observe_request],
        token_verifier=verifier,
        auth=auth,
    )
    expenses.register(mcp)
    spend.register(mcp)
    approvers.register(mcp)
    categorize.register(mcp)
    forecast.register(mcp)
    resources.register(mcp)
    return mcp


def _bearer_auth(settings: Settings) -> tuple[ApiKeyVerifier | None, AuthSettings | None]:
    if not settings.api_keys:
        return None, None
    auth = AuthSettings(
        # Static API keys have no authorization server; OAuth (a later issue) replaces both values.
        issuer_url=AnyHttpUrl(settings.server_url),
        resource_server_url=AnyHttpUrl(f"{settings.server_url}/mcp"),
        required_scopes=[READ_SCOPE],
        # API keys name no audience; the OAuth verifier will set `resource` and turn this on.
        validate_token_resource=False,
    )
    return ApiKeyVerifier(settings.api_keys), auth
