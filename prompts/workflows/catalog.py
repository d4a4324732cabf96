"""The workflow prompts. Each checks its arguments against the caller's company (the team exists, the
period is one), fills in its text (`<name>.md`) and attaches the resources that text names."""

# No `from __future__ import annotations`: the SDK evaluates these signatures to list the arguments.
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.prompts.base import Message
from pydantic import Field

from prompts.workflows import arguments as check
from prompts.workflows.render import call_arguments, messages
from server.arguments import given
from server.calls import CallScope, prompt_call
from server.context import AppContext
from server.kit.periods import PERIOD_HELP, Period

CATEGORIES = "outlay://categories"
POLICY = "outlay://policy/approvals"
EXPENSE_POLICY = "outlay://policy/expenses"
TEAM = "The team, by name, e.g. 'Marketing'."


def budgets(span: Period) -> str:
    return f"outlay://budgets/{span.label}"


async def month_end_close(
    ctx: Context[AppContext],
    period: Annotated[str, Field(description=f"The period to close: {PERIOD_HELP}.")],
) -> list[Message]:
    async with prompt_call("month_end_close") as call:
        span = check.period(period)
        values = _company(call) | _span(span)
    return await messages(ctx, "month_end_close", values, [CATEGORIES, POLICY, EXPENSE_POLICY, budgets(span)])


async def budget_check(
    ctx: Context[AppContext],
    team: Annotated[str, Field(description=TEAM)],
    period: Annotated[str, Field(description=f"The budget period: {PERIOD_HELP}.")],
) -> list[Message]:
    async with prompt_call("budget_check") as call:
        values, span = await _team_and_period(call, team, period)
    return await messages(ctx, "budget_check", values, [budgets(span)])


async def approval_triage(
    ctx: Context[AppContext],
    requester: Annotated[str | None, Field(description="Who asks: employee e-mail or name.")] = None,
    amount: Annotated[str | None, Field(description="The amount, a decimal string, e.g. '8400.00'.")] = None,
    currency: Annotated[
        str | None, Field(description="ISO 4217 code of the amount, e.g. 'EUR'; default: the company's.")
    ] = None,
    category: Annotated[str | None, Field(description="Expense category, by code or name.")] = None,
    team: Annotated[
        str | None, Field(description="The team to charge, by name; default: the requester's.")
    ] = None,
    description: Annotated[str | None, Field(description="What is bought, and why.")] = None,
) -> list[Message]:
    async with prompt_call("approval_triage") as call:
        texts = {"requester": requester, "amount": amount, "currency": currency, "category": category}
        request = await _purchase(call, texts | {"team": team, "description": description})
        values = _company(call) | _request(request)
    return await messages(ctx, "approval_triage", values, [POLICY, CATEGORIES])


async def categorize_backlog(
    ctx: Context[AppContext],
    team: Annotated[str | None, Field(description="Only this team's backlog, by name; default: all.")] = None,
    since: Annotated[
        str | None, Field(description=f"Only expenses from this day on: {check.SINCE_HELP}.")
    ] = None,
) -> list[Message]:
    async with prompt_call("categorize_backlog") as call:
        filters: dict[str, str] = {}
        if text := given(team):
            filters["team"] = (await check.team(call, text)).name
        if text := given(since):
            filters["date_from"] = check.since(text).isoformat()
        values = _company(call) | _backlog(filters)
    return await messages(ctx, "categorize_backlog", values, [CATEGORIES])


async def spend_review(
    ctx: Context[AppContext],
    team: Annotated[str, Field(description=TEAM)],
    period: Annotated[str, Field(description=f"The period to review: {PERIOD_HELP}.")],
) -> list[Message]:
    async with prompt_call("spend_review") as call:
        values, span = await _team_and_period(call, team, period)
        values |= _compared(span, call.app.clock.today())
    return await messages(ctx, "spend_review", values, [budgets(span), CATEGORIES])


async def policy_review(
    ctx: Context[AppContext],
    period: Annotated[str, Field(description=f"The period to review: {PERIOD_HELP}.")],
    team: Annotated[str | None, Field(description="Only this team, by name; default: every team.")] = None,
) -> list[Message]:
    async with prompt_call("policy_review") as call:
        span = check.period(period)
        arguments: dict[str, str | bool] = {"period": span.label}
        scope = "every team"
        if text := given(team):
            arguments["team"] = scope = (await check.team(call, text)).name
        review = call_arguments(arguments) + ", limit=25"
        values = _company(call) | _span(span) | {"scope": scope, "review": review}
    return await messages(ctx, "policy_review", values, [EXPENSE_POLICY, POLICY])


# (function, title, description): what a client shows in its prompt menu.
PROMPTS: list[tuple[Callable[..., Awaitable[list[Message]]], str, str]] = [
    (
        month_end_close,
        "Month-end close",
        "Close a month (or quarter): categorize the uncategorized backlog, find missing receipts, review "
        "the expenses for policy breaches and anomalies, check budgets at risk, and end with a checklist.",
    ),
    (
        budget_check,
        "Budget check",
        "Will a team stay within its budget for a period? The forecast, what drives it, and actions.",
    ),
    (
        approval_triage,
        "Approval triage",
        "Who must approve a purchase under the company's policy, in which order, and a message to send "
        "to the first approver.",
    ),
    (
        categorize_backlog,
        "Categorize the backlog",
        "Categorize the expenses that have no category yet: a dry run first, write only confident answers "
        "once you confirm, and list what needs a person.",
    ),
    (
        spend_review,
        "Spend review",
        "Where a team's money went in a period compared with the previous one: by category, merchant and "
        "person, with the rows behind the biggest changes.",
    ),
    (
        policy_review,
        "Policy review",
        "Walk a manager through the expense review of a period (optionally one team): policy breaches, "
        "duplicates, split purchases and anomalies, the most severe first, with the evidence.",
    ),
]


def _company(call: CallScope) -> dict[str, str]:
    today = call.app.clock.today()
    return {"company": call.caller.company_name, "currency": call.caller.currency, "today": today.isoformat()}


async def _team_and_period(call: CallScope, team: str, period: str) -> tuple[dict[str, str], Period]:
    found, span = await check.team(call, team), check.period(period)
    return _company(call) | _span(span) | {"team": found.name}, span


def _span(span: Period) -> dict[str, str]:
    return {"period": span.label, "date_from": span.start.isoformat(), "date_to": span.end.isoformat()}


def _compared(span: Period, today: dt.date) -> dict[str, str]:
    before = check.compared(span, today)
    return {
        "compare": before.label,
        "compare_from": before.start.isoformat(),
        "compare_to": before.end.isoformat(),
    }


async def _purchase(call: CallScope, texts: dict[str, str | None]) -> dict[str, tuple[str, str]]:
    """The details given, resolved: argument → (as suggest_approver takes it, as the user reads it)."""
    given_texts = {name: text for name, value in texts.items() if (text := given(value))}
    request: dict[str, tuple[str, str]] = {}
    if text := given_texts.get("requester"):
        person = await check.employee(call, "requester", text)
        request["requester"] = (person.email, f"{person.name} <{person.email}>")
    code = check.currency(given_texts.get("currency") or call.caller.currency)
    if text := given_texts.get("amount"):
        value = check.amount(text, code)
        request["amount"] = (value, f"{value} {code}")
    if "amount" in request or "currency" in given_texts:
        request["currency"] = (code, "" if "amount" in request else code)  # shown with the amount
    if text := given_texts.get("category"):
        found = await check.category(call, text)
        request["category"] = (found.code, f"{found.code} ({found.name})")
    if text := given_texts.get("team"):
        name = (await check.team(call, text)).name
        request["team"] = (name, name)
    if text := given_texts.get("description"):
        request["description"] = (check.description(text), check.description(text))
    return request


def _request(request: dict[str, tuple[str, str]]) -> dict[str, str]:
    shown = [f"- {name}: {label}" for name, (_, label) in request.items() if label]
    wanted = {"requester": "<e-mail or name>", "amount": "<decimal>"}
    passed = wanted | {name: value for name, (value, _) in request.items()}
    return {"request": "\n".join(shown) or "- nothing yet", "arguments": call_arguments(passed)}


def _backlog(filters: dict[str, str]) -> dict[str, str]:
    scope = [f"team {filters['team']}"] if "team" in filters else ["every team"]
    scope += [f"dated {filters['date_from']} or later"] if "date_from" in filters else []
    return {
        "scope": ", ".join(scope),
        "search": call_arguments({"uncategorized_only": True, **filters}),
        "filters": call_arguments(filters),
        "apply": call_arguments({**filters, "apply": True}),
    }
