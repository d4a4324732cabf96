"""Ordinary bad input is the caller's mistake, whatever the tool: a NUL character in any text, text past
any sensible length, dates and periods outside the years the server handles, amounts past what integer
minor units hold. Each is a tool error naming the argument and what is accepted, counted as
`invalid_arguments`, with nothing logged as a server failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, MCPError
from mcp_types import PromptReference

from tests.transports.conftest import TOKENS, start_server
from tests.world import call_error

pytestmark = pytest.mark.anyio

THIRTY_DIGITS = "1" + "0" * 29
DAYS = "the days this server handles: 1900-01-01 to 2199-12-31"
PERIODS = "the years this server handles: 1900 to 2199"
AMOUNTS = "at most 12 digits before the point and 4 after"
NUL = "contains a NUL character (\\u0000), which no text may hold"


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("search_expenses", {"merchant": "a\x00b"}, f"merchant: {NUL}"),
        ("search_expenses", {"team": "\x00"}, f"team: {NUL}"),
        ("search_expenses", {"dimensions": {"fund": "G\x00"}}, f"dimensions.fund: {NUL}"),
        ("search_expenses", {"dimensions": {"f\x00": "G"}}, f"dimensions: {NUL}"),
        ("search_expenses", {"f\x00": "G"}, f"arguments: {NUL}"),
        ("get_expense", {"expense_id": "EXP-\x00"}, f"expense_id: {NUL}"),
        ("categorize_expenses", {"merchant": "\x00"}, f"merchant: {NUL}"),
        ("categorize_expenses", {"expense_ids": ["EXP-000001", "\x00"]}, f"expense_ids[1]: {NUL}"),
        ("suggest_approver", {"requester": "\x00", "amount": "10"}, f"requester: {NUL}"),
        ("recategorize_expense", {"expense_id": "EXP-000001", "category": "X\x00"}, f"category: {NUL}"),
        ("search_expenses", {"merchant": "ab" * 50_000}, "merchant: 100,000 characters; at most 4,000"),
        ("search_expenses", {"date_to": "9999-12-31"}, f"date_to: 9999-12-31 is outside {DAYS}"),
        ("search_expenses", {"date_from": "0001-01-01"}, f"date_from: 0001-01-01 is outside {DAYS}"),
        ("summarize_spend", {"date_from": "0001-01-01", "date_to": "0001-01-31"}, "date_from: 0001-01-01"),
        ("categorize_expenses", {"date_to": "9999-12-31"}, f"date_to: 9999-12-31 is outside {DAYS}"),
        (
            "forecast_budget",
            {"team": "Engineering", "date_from": "0001-01-01", "date_to": "0001-12-31"},
            f"date_from: 0001-01-01 is outside {DAYS}",
        ),
        ("summarize_spend", {"period": "0000"}, f"period: '0000' is outside {PERIODS}"),
        ("summarize_spend", {"period": "0001"}, f"period: '0001' is outside {PERIODS}"),
        ("summarize_spend", {"period": "9999-Q4"}, f"period: '9999-Q4' is outside {PERIODS}"),
        ("summarize_spend", {"period": "9999-12"}, f"period: '9999-12' is outside {PERIODS}"),
        ("forecast_budget", {"team": "Engineering", "period": "9999-Q4"}, "period: '9999-Q4' is outside"),
        ("forecast_budgets", {"period": "0000"}, f"period: '0000' is outside {PERIODS}"),
        ("search_expenses", {"min_amount": "9223372036854775807"}, f"min_amount: {AMOUNTS}"),
        ("search_expenses", {"min_amount": THIRTY_DIGITS}, f"min_amount: {AMOUNTS}"),
        ("search_expenses", {"max_amount": f"-{THIRTY_DIGITS}"}, f"max_amount: {AMOUNTS}"),
        ("search_expenses", {"max_amount": "1.000000000000000000000000000001"}, f"max_amount: {AMOUNTS}"),
        ("suggest_approver", {"requester": "Ann Lee", "amount": THIRTY_DIGITS}, f"amount: {AMOUNTS}"),
        ("categorize_expense", {"descriptor": "x", "amount": THIRTY_DIGITS}, f"amount: {AMOUNTS}"),
    ],
)
async def test_bad_input_is_the_callers_mistake_named_by_argument(
    acme: Client, caplog: pytest.LogCaptureFixture, tool: str, arguments: dict[str, Any], message: str
) -> None:
    with caplog.at_level(logging.INFO):
        refused = await call_error(acme, tool, arguments)

    assert message in refused
    assert [record.__dict__["outcome"] for record in caplog.records if record.name == "outlay.calls"] == [
        "invalid_arguments"
    ]
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []


DATE = 'expected: YYYY-MM-DD, e.g. "2026-07-01"'
TEAM = "Team name, e.g. 'Marketing' (the team charged; sub-teams are not included)"


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        (
            "search_expenses",
            {"date_from": "yesterday"},
            f"date_from: \"yesterday\" is not a date; {DATE} (work out days such as 'yesterday' from "
            "today's date)",
        ),
        (
            "search_expenses",
            {"date_to": "2026-02-30"},
            f'date_to: "2026-02-30" is no day of the calendar; {DATE}',
        ),
        ("search_expenses", {"date_from": "01/02/2026"}, f'date_from: "01/02/2026" is not a date; {DATE}'),
        ("search_expenses", {"date_from": 20260101}, f"date_from: 20260101 is not a date; {DATE}"),
        ("categorize_expenses", {"date_to": "today"}, f'date_to: "today" is not a date; {DATE} (work out'),
        (
            "search_expenses",
            {"limit": "ten"},
            'limit: "ten" is not a whole number; expected: a whole number from 1 to 200, e.g. 50',
        ),
        (
            "forecast_budgets",
            {"top": 0},
            "top: 0 is out of range; expected: a whole number from 1 to 500, e.g. 20",
        ),
        (
            "search_expenses",
            {"uncategorized_only": "maybe"},
            'uncategorized_only: "maybe" is not true or false; expected: the JSON value true or false, '
            "e.g. true",
        ),
        (
            "suggest_approver",
            {"requester": "Ann Lee", "amount": "10", "payment_type": "cash"},
            "payment_type: \"cash\" is not a choice; expected one of: 'card', 'reimbursement' or 'invoice'",
        ),
        ("search_expenses", {"team": 5}, f"team: 5 is a JSON number, not a string; expected: {TEAM}"),
        (
            "categorize_expenses",
            {"expense_ids": "EXP-000001"},
            'expense_ids: "EXP-000001" is a string, not a list; expected: Expense ids to categorize',
        ),
        (
            "categorize_expenses",
            {"expense_ids": [1, 2]},
            "expense_ids[0]: 1 is a JSON number, not a string; expected: Expense ids to categorize; omit "
            "(not an empty list) to work on the uncategorized backlog (and 1 more)",
        ),
        (
            "search_expenses",
            {"dimensions": {"fund": 1}},
            "dimensions.fund: 1 is a JSON number, not a string; expected: Free dimensions",
        ),
        (
            "categorize_expense",
            {"descriptor": "x", "mcc": "58"},
            "mcc: \"58\" is not in the accepted form; expected: 4-digit merchant category code, e.g. '5812'",
        ),
        ("get_expense", {}, "expense_id: missing; it is required: The expense id, e.g. 'EXP-000123'"),
        (
            "summarize_spend",
            {"group_by": "week"},
            'group_by: "week" is not accepted; expected: The dimension to total by: category, team',
        ),
        (
            "forecast_budgets",
            {"period": 2026.5},
            "period: 2026.5 is not a period: use a year (2026), a quarter (2026-Q3) or a month (2026-07), as "
            "a string",
        ),
        (  # two arguments wrong: one line each
            "search_expenses",
            {"date_from": "last week", "limit": 0},
            f"date_from: \"last week\" is not a date; {DATE} (work out days such as 'yesterday' from today's "
            "date)\nlimit: 0 is out of range; expected: a whole number from 1 to 200, e.g. 50",
        ),
    ],
)
async def test_argument_errors_read_one_line_per_argument_with_what_is_accepted(
    acme: Client, caplog: pytest.LogCaptureFixture, tool: str, arguments: dict[str, Any], message: str
) -> None:
    await refused_line_by_line(acme, caplog, tool, arguments, message)


async def refused_line_by_line(
    acme: Client, caplog: pytest.LogCaptureFixture, tool: str, arguments: dict[str, Any], message: str
) -> None:
    """`message` is how the refusal starts, with its number of lines; nothing of pydantic's own format
    shows, and the call counts as the caller's mistake."""
    with caplog.at_level(logging.INFO):
        refused = await call_error(acme, tool, arguments)

    assert refused.startswith(message)
    assert len(refused.splitlines()) == len(message.splitlines())
    for leak in ("validation error", "Arguments", "pydantic", "http", "Input should", "[type="):
        assert leak not in refused
    assert [record.__dict__["outcome"] for record in caplog.records if record.name == "outlay.calls"] == [
        "invalid_arguments"
    ]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        (
            "search_expenses",
            {"merchant_text": "uber"},
            "merchant_text: search_expenses has no such argument; did you mean merchant?",
        ),
        (
            "summarize_spend",
            {"period": "2026", "groupby": "team"},
            "groupby: summarize_spend has no such argument; did you mean group_by?",
        ),
        (
            "get_expense",
            {"expense_id": "EXP-000001", "verbose": True},
            "verbose: get_expense has no such argument; its arguments are expense_id",
        ),
        (  # the name an agent guessed: the argument it is a word of, and the one missing
            "get_expense",
            {"id": "EXP-000001"},
            "id: get_expense has no such argument; did you mean expense_id?\nexpense_id: missing; it is "
            "required: The expense id, e.g. 'EXP-000123'",
        ),
        (  # a name that is no name heads its line quoted (the fuzz sent "" and a newline)
            "get_expense",
            {"expense_id": "EXP-000001", "": 1, "a\nb": 2},
            '"": get_expense has no such argument; its arguments are expense_id\n'
            '"a\\nb": get_expense has no such argument; its arguments are expense_id',
        ),
        (
            "search_expenses",
            {"team": ""},
            f'team: "" is empty; leave the argument out for none, or give: {TEAM}',
        ),
        ("summarize_spend", {"employee": "  "}, 'employee: "  " is empty; leave the argument out for none'),
        ("categorize_expenses", {"merchant": ""}, 'merchant: "" is empty; leave the argument out for none'),
        ("search_expenses", {"cursor": ""}, 'cursor: "" is empty; leave the argument out for none'),
        (
            "search_expenses",
            {"dimensions": {"fund": ""}},
            'dimensions.fund: "" is empty; leave the argument out',
        ),
        ("forecast_budget", {"team": " "}, 'team: " " is empty; it is required: The team, by name'),
        (
            "suggest_approver",
            {"requester": "Ann Lee", "amount": "10", "team": "", "amount_eur": "10"},
            'team: "" is empty; leave the argument out for none, or give: Team to charge, by name; default: '
            "the requester's team\namount_eur: suggest_approver has no such argument; did you mean amount?",
        ),
    ],
)
async def test_unknown_arguments_and_blank_filters_are_refused(
    acme: Client, caplog: pytest.LogCaptureFixture, tool: str, arguments: dict[str, Any], message: str
) -> None:
    await refused_line_by_line(acme, caplog, tool, arguments, message)


async def test_every_tool_refuses_an_argument_it_does_not_have(acme: Client) -> None:
    for tool in (await acme.list_tools()).tools:
        refused = await call_error(acme, tool.name, {"bogus_filter": "x"})

        assert f"bogus_filter: {tool.name} has no such argument; its arguments are " in refused, tool.name


@pytest.mark.parametrize(
    ("uri", "message", "outcome"),
    [
        (
            "outlay://budgets/9999-Q4",
            f"no budget period '9999-Q4': use a year (2026), a quarter (2026-Q3) "
            f"or a month (2026-07), in {PERIODS}",
            "not_found",
        ),
        (
            "outlay://budgets/0000",
            f"no budget period '0000': use a year (2026), a quarter (2026-Q3) "
            f"or a month (2026-07), in {PERIODS}",
            "not_found",
        ),
        ("outlay://expenses/EXP-%00", NUL, "invalid_arguments"),
    ],
)
async def test_bad_resource_uris_are_the_callers_mistake(
    acme: Client, caplog: pytest.LogCaptureFixture, uri: str, message: str, outcome: str
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(MCPError) as refused:
        await acme.read_resource(uri)

    assert message in refused.value.error.message
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    outcomes = [record.__dict__["outcome"] for record in caplog.records if record.name == "outlay.calls"]
    assert outcomes == [outcome]


@pytest.mark.parametrize(
    ("prompt", "arguments", "message"),
    [
        (
            "budget_check",
            {"team": "Marketing", "period": "9999-Q4"},
            f"period: '9999-Q4' is outside {PERIODS}",
        ),
        ("budget_check", {"team": "Market\x00ing", "period": "2026-Q2"}, f"team: {NUL}"),
        ("categorize_backlog", {"since": "9999-12-31"}, f"since: '9999-12-31' is outside {DAYS}"),
        ("categorize_backlog", {"since": "0001"}, "since: '0001' is neither a date nor a period"),
        (
            "approval_triage",
            {"requester": "Ann Lee", "amount": THIRTY_DIGITS},
            f"amount: {THIRTY_DIGITS} is too",
        ),
        ("approval_triage", {"requester": "Ann Lee", "amount": "1" * 13}, f"large or too precise: {AMOUNTS}"),
        (  # past Decimal's 28 digits: refused, not rounded to 1.00
            "approval_triage",
            {"requester": "Ann Lee", "amount": "1.000000000000000000000000000001"},
            f"large or too precise: {AMOUNTS}",
        ),
    ],
)
async def test_bad_prompt_arguments_are_the_callers_mistake(
    acme: Client, caplog: pytest.LogCaptureFixture, prompt: str, arguments: dict[str, str], message: str
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(MCPError) as refused:
        await acme.get_prompt(prompt, arguments)

    assert message in refused.value.error.message
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []


async def test_a_completion_of_a_bad_value_is_the_callers_mistake(acme: Client) -> None:
    with pytest.raises(MCPError) as refused:
        await acme.complete(PromptReference(name="budget_check"), {"name": "team", "value": "Mar\x00"})

    assert refused.value.error.message == f"argument.value: {NUL}"


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def served(seeded_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("bad-input") / "server.log"
    process, url = start_server(seeded_url, log)
    yield url, log
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"name": "search_expenses", "arguments": "merchant=Uber"},
            'arguments: an object of arguments by name is expected, e.g. {"limit": 5}; got a string',
        ),
        ({"name": "search_expenses", "arguments": {"merchant": "U\x00ber"}}, f"merchant: {NUL}"),
        ({"name": "summarize_spend", "arguments": {"period": "9999-Q4"}}, "period: '9999-Q4' is outside"),
        (
            {"name": "search_expenses", "arguments": {"merchant_text": "Uber", "date_from": "yesterday"}},
            "merchant_text: search_expenses has no such argument; did you mean merchant?\n"
            'date_from: "yesterday" is not a date; expected: YYYY-MM-DD',
        ),
    ],
)
def test_over_http_bad_input_is_a_tool_error_and_no_traceback(
    served: tuple[str, Path], params: dict[str, Any], message: str
) -> None:
    url, log = served
    logged = len(log.read_text())
    headers = MCP_HEADERS | {
        "Authorization": f"Bearer {TOKENS['acme']}",
        "MCP-Protocol-Version": "2025-11-25",
    }
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}

    response = httpx2.post(f"{url}/mcp", json=request, headers=headers, timeout=30)

    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["isError"] is True
    assert message in result["content"][0]["text"]
    assert "Traceback" not in log.read_text()[logged:]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("serach_expenses", 'Unknown tool "serach_expenses"; did you mean search_expenses'),
        ("\r0", 'Unknown tool "\\r0"; the tools are categorize_expense, categorize_expenses, '),
    ],
)
async def test_an_unknown_tool_is_named_on_one_line_with_the_close_ones(
    acme: Client, name: str, message: str
) -> None:
    refused = await call_error(acme, name, {})

    assert refused.startswith(message)
    assert len(refused.splitlines()) == 1
