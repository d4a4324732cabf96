"""The workflow prompts through a real MCP client, on both backends and both protocol eras: listed with
their arguments, rendered for the caller's company with its resources attached, refused with errors the
user can act on, and their arguments completed from the caller's own teams, people, categories and
periods."""

from __future__ import annotations

import re

import pytest
from mcp import Client, MCPError
from mcp_types import INVALID_PARAMS, EmbeddedResource, PromptReference, TextContent, TextResourceContents

from server.db.engine import create_engine, create_session_factory
from tests import factories as f
from tests.world import build, connect

pytestmark = pytest.mark.anyio

CATEGORIES, POLICY = "outlay://categories", "outlay://policy/approvals"
EXPENSE_POLICY = "outlay://policy/expenses"


async def rendered(client: Client, name: str, arguments: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The prompt's text, and the resources embedded after it (URI: text)."""
    result = await client.get_prompt(name, arguments)
    [first, *rest] = result.messages
    assert {message.role for message in result.messages} == {"user"}
    assert isinstance(first.content, TextContent)
    attached: dict[str, str] = {}
    for message in rest:
        assert isinstance(message.content, EmbeddedResource)
        assert isinstance(message.content.resource, TextResourceContents)
        attached[str(message.content.resource.uri)] = message.content.resource.text
    return first.content.text, attached


async def test_every_prompt_is_listed_with_its_arguments(acme: Client) -> None:
    prompts = (await acme.list_prompts()).prompts

    assert [(p.name, p.title, [(a.name, a.required) for a in p.arguments or []]) for p in prompts] == [
        ("month_end_close", "Month-end close", [("period", True)]),
        ("budget_check", "Budget check", [("team", True), ("period", True)]),
        (
            "approval_triage",
            "Approval triage",
            [
                ("requester", False),
                ("amount", False),
                ("currency", False),
                ("category", False),
                ("team", False),
                ("description", False),
            ],
        ),
        ("categorize_backlog", "Categorize the backlog", [("team", False), ("since", False)]),
        ("spend_review", "Spend review", [("team", True), ("period", True)]),
        ("policy_review", "Policy review", [("period", True), ("team", False)]),
    ]
    assert all(p.description for p in prompts)
    assert all(a.description for p in prompts for a in p.arguments or [])


VALID: list[tuple[str, dict[str, str], list[str], list[str]]] = [
    (
        "month_end_close",
        {"period": "2026-07"},
        [CATEGORIES, POLICY, EXPENSE_POLICY, "outlay://budgets/2026-07"],
        [
            "close the books of Acme Corp for 2026-07 (2026-07-01 to 2026-07-31)",
            'search_expenses(date_from="2026-07-01", date_to="2026-07-31", uncategorized_only=true)',
            'categorize_expenses(date_from="2026-07-01", date_to="2026-07-31")',
            "apply=true",
            'search_expenses(date_from="2026-07-01", date_to="2026-07-31", missing_receipt=true)',
            'review_expenses(period="2026-07", limit=100)',
            "`policy_version` is null",
            "get_expense",
            'forecast_budgets(period="2026-07")',
            "checklist",
        ],
    ),
    (
        "budget_check",
        {"team": "marketing", "period": "2026-q3"},
        ["outlay://budgets/2026-Q3"],
        [
            "Acme Corp's Marketing team for 2026-Q3 (2026-07-01 to 2026-09-30)",
            'forecast_budget(team="Marketing", period="2026-Q3")',
            'summarize_spend(team="Marketing", period="2026-Q3", group_by="merchant")',
            'search_expenses(team="Marketing", date_from="2026-07-01", date_to="2026-09-30", merchant="...")',
            'forecast_budgets(period="2026-Q3")',
            "actions",
        ],
    ),
    (
        "approval_triage",
        {
            "requester": "ann",
            "amount": "8400",
            "category": "soft",
            "team": "eng",
            "description": 'A "big" one',
        },
        [POLICY, CATEGORIES],
        [
            "- requester: Ann Lee <ann@acme.example>\n- amount: 8400.00 EUR\n"
            '- category: SOFTWARE (Software)\n- team: Engineering\n- description: A "big" one\n',
            'suggest_approver(requester="ann@acme.example", amount="8400.00", currency="EUR", '
            'category="SOFTWARE", team="Engineering", description="A \\"big\\" one")',
            "no_eligible_approver",
            "message to the first approver",
            "offer to file the request for approval, and file it only if I say yes: `submit_spend_request`",
            "`idempotency_key`",
        ],
    ),
    (
        "approval_triage",
        {"amount": "120", "currency": "usd"},
        [POLICY, CATEGORIES],
        ['suggest_approver(requester="<e-mail or name>", amount="120.00", currency="USD")'],
    ),
    (
        "approval_triage",
        {},
        [POLICY, CATEGORIES],
        ["- nothing yet", 'suggest_approver(requester="<e-mail or name>", amount="<decimal>")'],
    ),
    (
        "categorize_backlog",
        {"team": "sales", "since": "2026-Q2"},
        [CATEGORIES],
        [
            "uncategorized expenses: team Sales, dated 2026-04-01 or later",
            'search_expenses(uncategorized_only=true, team="Sales", date_from="2026-04-01")',
            'categorize_expenses(team="Sales", date_from="2026-04-01")',
            'categorize_expenses(team="Sales", date_from="2026-04-01", apply=true)',
            "needs_review",
        ],
    ),
    (  # clients send blanks for the optional arguments a user left empty
        "categorize_backlog",
        {"team": "", "since": " "},
        [CATEGORIES],
        ["every team", "search_expenses(uncategorized_only=true)", "categorize_expenses()", "(apply=true)"],
    ),
    (
        "categorize_backlog",
        {"since": "2026-05-04"},
        [CATEGORIES],
        ['categorize_expenses(date_from="2026-05-04")'],
    ),
    (
        "spend_review",
        {"team": "Engineering", "period": "2026-06"},
        ["outlay://budgets/2026-06", CATEGORIES],
        [
            "compared with 2026-05 (2026-05-01 to 2026-05-31)",
            'summarize_spend(team="Engineering", period="2026-06", group_by="category")',
            'summarize_spend(team="Engineering", date_from="2026-05-01", date_to="2026-05-31", '
            'group_by="category")',
            'group_by="merchant"',
            'group_by="employee"',
            "search_expenses",
            'forecast_budget(team="Engineering", period="2026-06")',
        ],
    ),
    (
        "spend_review",
        {"team": "Engineering", "period": "2026-Q3"},
        ["outlay://budgets/2026-Q3", CATEGORIES],
        ["compared with the first 20 days of 2026-Q2 (2026-04-01 to 2026-04-20)"],
    ),
    (
        "policy_review",
        {"period": "2026-q3", "team": "sales"},
        [EXPENSE_POLICY, POLICY],
        [
            "the expense review of Sales for 2026-Q3 (2026-07-01 to 2026-09-30)",
            'review_expenses(period="2026-Q3", team="Sales", limit=25)',
            'review_expenses(expense_ids=["EXP-..."])',
            "get_expense",
            "not verdicts",
        ],
    ),
    (
        "policy_review",
        {"period": "2026-07"},
        [EXPENSE_POLICY, POLICY],
        ["the expense review of every team for 2026-07", 'review_expenses(period="2026-07", limit=25)'],
    ),
]


@pytest.mark.parametrize(("name", "arguments", "uris", "phrases"), VALID)
async def test_a_prompt_renders_its_steps_with_the_resources_attached(
    acme: Client, name: str, arguments: dict[str, str], uris: list[str], phrases: list[str]
) -> None:
    text, attached = await rendered(acme, name, arguments)

    assert [phrase for phrase in phrases if flat(phrase) not in flat(text)] == []
    assert list(attached) == uris
    for uri, body in attached.items():
        assert uri in text
        [contents] = (await acme.read_resource(uri)).contents
        assert isinstance(contents, TextResourceContents)
        assert body == contents.text


async def test_prompts_name_only_tools_and_resources_the_server_has(acme: Client) -> None:
    tools = {tool.name for tool in (await acme.list_tools()).tools}
    resources = {str(r.uri) for r in (await acme.list_resources()).resources}
    templates = [t.uri_template for t in (await acme.list_resource_templates()).resource_templates]

    for name, arguments, *_ in VALID:
        text, _ = await rendered(acme, name, arguments)
        named_tools = set(re.findall(r"`([a-z_]+)\(", text)) | set(re.findall(r"`([a-z_]+)`", text)) & tools
        uris = set(re.findall(r"outlay://[\w/{}.-]*\w", text))
        assert named_tools, name
        assert named_tools <= tools, name
        assert all(uri in resources or _fills(uri, templates) for uri in uris), (name, uris)
        assert "$" not in text, name


def flat(text: str) -> str:
    """Line breaks fall wherever a filled-in value pushes them."""
    return " ".join(text.split())


def _fills(uri: str, templates: list[str]) -> bool:
    return any(re.fullmatch(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(t)), uri) for t in templates)


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        (
            "month_end_close",
            {"period": "2026-13"},
            "period: '2026-13' is not a period: use a year (2026), a quarter (2026-Q3) or a month (2026-07)",
        ),
        (
            "month_end_close",
            {},
            "month_end_close needs period "
            "(The period to close: a year (2026), a quarter (2026-Q3) or a month (2026-07).)",
        ),
        (
            "budget_check",
            {"team": "Mktg", "period": "2026-Q3"},
            "team: no team named 'Mktg'; did you mean 'Marketing'?",
        ),
        (
            "budget_check",
            {"team": "Mark", "period": "2026"},
            "team: 'Mark' matches 3 teams: Market Research, Marketing, Marketing Ops; "
            "pass one of them exactly",
        ),
        (
            "budget_check",
            {"team": " ", "period": "2026"},
            "budget_check needs team (The team, by name, e.g. 'Marketing'.)",
        ),
        (
            "spend_review",
            {"team": "Sales", "period": "2026-Q3", "owner": "me"},
            "spend_review has no argument owner: its arguments are team, period",
        ),
        (
            "budget_check",
            {"teem": "Sales", "period": "2026-Q3"},
            "budget_check has no argument teem: did you mean team?",
        ),
        (  # Hank works at Globex, not at Acme
            "approval_triage",
            {"requester": "hank"},
            "requester: no employee with e-mail or name 'hank'; the employees are: Ann Lee, Bob Stone, "
            "Carla Diaz, Dan Brown, Dana Brown, Eve Adams, Old Timer",
        ),
        (
            "approval_triage",
            {"requester": "Ann Lee", "amount": "12,50"},
            "amount: '12,50' is not a decimal amount (use a point: 1234.56)",
        ),
        ("approval_triage", {"amount": "-5"}, "amount: must be positive, got -5"),
        ("approval_triage", {"amount": "1.234"}, "amount: 1.234 has more decimals than EUR allows"),
        (
            "approval_triage",
            {"amount": "10", "currency": "EURO"},
            "currency: unknown ISO 4217 currency code 'EURO'; use an ISO 4217 code such as EUR or USD",
        ),
        (
            "approval_triage",
            {"category": "HARDWARE"},
            "category: no category with code or name 'HARDWARE'; "
            "the categories are: MEALS, OFFICE, SOFTWARE, TRAVEL, TRAVEL-AIR",
        ),
        ("approval_triage", {"description": "x" * 2001}, "description: at most 2000 characters, got 2001"),
        (
            "categorize_backlog",
            {"since": "last week"},
            "since: 'last week' is neither a date nor a period: use a date YYYY-MM-DD (2026-10-01) or a "
            "period, from its first day (2026-10, 2026-Q3, 2026)",
        ),
        ("categorize_backlog", {"since": "2026-02-30"}, "since: '2026-02-30' is not a date: use a date"),
    ],
)
async def test_bad_arguments_are_refused_with_what_to_pass_instead(
    acme: Client, name: str, arguments: dict[str, str], message: str
) -> None:
    with pytest.raises(MCPError) as raised:
        await acme.get_prompt(name, arguments)

    assert raised.value.code == INVALID_PARAMS
    assert raised.value.error.message.startswith(message)


# Newest first, each year before its quarters and each quarter before its months.
SPEND_PERIODS = ["2026", "2026-Q3", "2026-08", "2026-07", "2026-Q2", "2026-06", "2026-05", "2026-04"]
SPEND_PERIODS += ["2026-Q1", "2026-03", "2026-02", "2026-01"]


@pytest.mark.parametrize(
    ("prompt", "argument", "value", "values"),
    [
        ("budget_check", "team", "mark", ["Market Research", "Marketing", "Marketing Ops"]),
        ("spend_review", "team", "OPS", ["Marketing Ops"]),
        ("policy_review", "team", "OPS", ["Marketing Ops"]),
        ("policy_review", "period", "2026-0", [f"2026-0{m}" for m in range(8, 0, -1)]),
        (
            "categorize_backlog",
            "team",
            "",
            ["Engineering", "Market Research", "Marketing", "Marketing Ops", "Sales"],
        ),
        ("approval_triage", "team", "s", ["Sales", "Market Research", "Marketing Ops"]),
        ("budget_check", "period", "", ["2026", "2026-07", "2026-Q2", "2026-Q3"]),
        ("budget_check", "period", "2026-q", ["2026-Q2", "2026-Q3"]),
        ("month_end_close", "period", "2026-0", [f"2026-0{m}" for m in range(8, 0, -1)]),
        (
            "spend_review",
            "period",
            "",
            SPEND_PERIODS,
        ),
        ("approval_triage", "requester", "brown", ["dan@acme.example", "dana@acme.example"]),
        # Names that start with the text first, then those that contain it
        ("approval_triage", "requester", "an", ["ann@acme.example", "dan@acme.example", "dana@acme.example"]),
        ("approval_triage", "requester", "old", []),  # Old Timer has left
        ("approval_triage", "category", "tr", ["TRAVEL", "TRAVEL-AIR"]),
        ("approval_triage", "category", "air", ["TRAVEL-AIR"]),
        ("categorize_backlog", "since", "2026-0", [f"2026-0{m}-01" for m in range(8, 0, -1)]),
    ],
)
async def test_completions_offer_the_companys_own_entities(
    acme: Client, prompt: str, argument: str, value: str, values: list[str]
) -> None:
    completion = (
        await acme.complete(PromptReference(name=prompt), {"name": argument, "value": value})
    ).completion

    assert (completion.values, completion.has_more) == (values, False)


@pytest.mark.parametrize(("prompt", "argument"), [("approval_triage", "amount"), ("no_such_prompt", "team")])
async def test_arguments_that_name_nothing_complete_to_nothing(
    acme: Client, prompt: str, argument: str
) -> None:
    reference = PromptReference(name=prompt)

    completion = (await acme.complete(reference, {"name": argument, "value": "1"})).completion

    assert (completion.values, completion.has_more) == ([], None)


async def test_twenty_completions_at_most_and_the_rest_announced(acme: Client) -> None:
    """Eight months of spend give 8 months, 3 quarters and a year: 12 fit; a prefix narrows them."""
    reference = PromptReference(name="spend_review")

    everything = (await acme.complete(reference, {"name": "period", "value": ""})).completion
    none = (await acme.complete(reference, {"name": "period", "value": "2025"})).completion

    assert (len(everything.values), everything.has_more, everything.total) == (12, False, 12)
    assert (none.values, none.total) == ([], 0)


async def test_completions_are_each_companys_own(acme: Client, globex: Client) -> None:
    async def values(client: Client, prompt: str, argument: str) -> list[str]:
        reference = PromptReference(name=prompt)
        return (await client.complete(reference, {"name": argument, "value": ""})).completion.values

    assert await values(globex, "budget_check", "period") == ["2025", "2026-Q3"]
    assert await values(globex, "approval_triage", "requester") == [
        "ann@globex.example",
        "hank@globex.example",
    ]
    assert await values(globex, "approval_triage", "category") == ["HARDWARE", "TRAVEL"]
    assert await values(acme, "approval_triage", "category") == [
        "MEALS",
        "OFFICE",
        "SOFTWARE",
        "TRAVEL",
        "TRAVEL-AIR",
    ]
    assert "hank@globex.example" not in await values(acme, "approval_triage", "requester")


async def test_a_prompt_is_rendered_for_the_callers_company_only(acme: Client, globex: Client) -> None:
    arguments = {"team": "Marketing", "period": "2026-Q3"}

    mine, my_resources = await rendered(acme, "budget_check", arguments)
    theirs, their_resources = await rendered(globex, "budget_check", arguments)

    assert ("Acme Corp's Marketing" in mine, "Globex Inc's Marketing" in theirs) == (True, True)
    assert ("amounts are in EUR" in mine, "amounts are in USD" in theirs) == (True, True)
    assert '"99999.00"' in their_resources["outlay://budgets/2026-Q3"]
    assert '"99999.00"' not in my_resources["outlay://budgets/2026-Q3"]
    assert "Hank" not in str(await rendered(acme, "approval_triage", {}))
    assert (await rendered(globex, "approval_triage", {"requester": "hank"}))[0].count(
        "hank@globex.example"
    ) == 2


async def test_a_resource_that_cannot_be_read_is_named_instead_of_attached(
    database_url: str, mode: str
) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            solo = await f.make_company(session, slug="solo", name="Solo Ltd")
            await f.make_category(session, company=solo, code="TRAVEL")
    finally:
        await engine.dispose()

    async with connect(build(database_url, "solo"), mode) as client:
        result = await client.get_prompt("approval_triage", {})

    [text, missing, categories] = [message.content for message in result.messages]
    assert isinstance(missing, TextContent)
    assert missing.text == (
        "outlay://policy/approvals could not be attached: no approval policy is loaded for this company"
    )
    assert isinstance(text, TextContent)
    assert "Solo Ltd's approval policy" in text.text
    assert isinstance(categories, EmbeddedResource)
    assert str(categories.resource.uri) == CATEGORIES
