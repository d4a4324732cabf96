"""search_expenses through a real MCP client, on both backends and both protocol eras."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.kit import selection
from tests.world import call_error, call_ok, raw

pytestmark = pytest.mark.anyio

ALL_ACME = "SELECT e.ref FROM expenses e JOIN companies c ON c.id = e.company_id WHERE c.slug = 'acme'"
NEWEST_FIRST = " ORDER BY e.spent_on DESC, e.id DESC"
TAGGED = "SELECT expense_id FROM expense_dimensions WHERE"


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement sent to a database while the test runs."""
    sent: list[str] = []

    def on_execute(*args: Any) -> None:
        sent.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", on_execute)
    yield sent
    event.remove(Engine, "before_cursor_execute", on_execute)


def text_of(result: CallToolResult) -> str:
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


async def walk(
    client: Client, arguments: dict[str, Any], limit: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page of a search: the ids in order, and the pages."""
    ids: list[str] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await call_ok(client, "search_expenses", {**arguments, "limit": limit, "cursor": cursor})
        pages.append(page)
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, pages


async def test_one_expense_as_a_whole(acme: Client) -> None:
    page = await call_ok(acme, "search_expenses", {"merchant": "fra-jfk"})

    assert page == {
        "items": [
            {
                "id": "EXP-000100",
                "date": "2026-07-03",
                "employee": {"email": "ann@acme.example", "name": "Ann Lee"},
                "team": "Marketing",
                "merchant": "Lufthansa",
                "descriptor": "LUFTHANSA 2209876 FRA-JFK",
                "amount": {"amount": "412.50", "currency": "USD"},
                "amount_company": {"amount": "380.00", "currency": "EUR"},
                "category": {
                    "code": "TRAVEL-AIR",
                    "name": "Air travel",
                    "source": "model",
                    "confidence": 0.87,
                },
                "status": "approved",
                "receipt_attached": True,
            }
        ],
        "next_cursor": None,
        "total_matched": 1,
        "total_matched_capped": False,
        "page_total": {"amount": "380.00", "currency": "EUR"},
        "filters": {
            "date_from": None,
            "date_to": None,
            "team": None,
            "employee": None,
            "merchant": "fra-jfk",
            "merchant_text": "fra-jfk",
            "category": None,
            "status": None,
            "min_amount": None,
            "max_amount": None,
            "uncategorized_only": False,
            "missing_receipt": False,
            "cost_center": None,
            "project": None,
            "dimensions": {},
        },
    }


async def test_the_models_json_text_is_the_structured_content_compact(acme: Client) -> None:
    result = await acme.call_tool("search_expenses", {"team": "Sales", "limit": 3})

    assert isinstance(result.content[1], TextContent)
    assert json.loads(result.content[1].text) == result.structured_content
    assert ", " not in result.content[1].text.partition('"items":')[2][:40]  # no separator padding


async def test_summary_text_says_how_much_and_whether_more_pages_exist(acme: Client) -> None:
    one = await acme.call_tool("search_expenses", {"merchant": "fra-jfk"})
    first = await acme.call_tool("search_expenses", {"team": "Sales", "limit": 2})
    empty = await acme.call_tool("search_expenses", {"merchant": "no such merchant"})

    assert first.structured_content is not None
    total, matched = (
        first.structured_content["page_total"]["amount"],
        first.structured_content["total_matched"],
    )
    assert [text_of(result) for result in (one, first, empty)] == [
        "1 expense of 1 matching, 380.00 EUR in this page; no more pages",
        f"2 expenses of {matched} matching, {Decimal(total):,} EUR in this page; "
        "more available (pass next_cursor)",
        "No expenses match these filters.",
    ]


@pytest.mark.parametrize(
    ("arguments", "where"),
    [
        ({}, ""),
        (
            {"team": "marketing"},
            " AND e.team_id = (SELECT id FROM teams WHERE name = 'Marketing' AND company_id = c.id)",
        ),
        (
            {"employee": "DANA@acme.example"},
            " AND e.employee_id IN (SELECT id FROM employees WHERE email = 'dana@acme.example')",
        ),
        (
            {"category": "Travel"},
            " AND e.category_id = (SELECT id FROM categories WHERE code = 'TRAVEL' AND company_id = c.id)",
        ),
        ({"uncategorized_only": True}, " AND e.category_id IS NULL"),
        # Counted from the monthly rollup plus the days at the edges of the period:
        ({"date_from": "2026-03-15"}, " AND e.spent_on >= '2026-03-15'"),
        (
            {"date_to": "2026-04-10", "team": "Sales"},
            " AND e.spent_on <= '2026-04-10'"
            " AND e.team_id = (SELECT id FROM teams WHERE name = 'Sales' AND company_id = c.id)",
        ),
        (
            {"date_from": "2026-02-10", "date_to": "2026-07-20", "uncategorized_only": True},
            " AND e.spent_on BETWEEN '2026-02-10' AND '2026-07-20' AND e.category_id IS NULL",
        ),
        (
            {"date_from": "2026-05-02", "date_to": "2026-05-30", "category": "Travel"},
            " AND e.spent_on BETWEEN '2026-05-02' AND '2026-05-30'"
            " AND e.category_id = (SELECT id FROM categories WHERE code = 'TRAVEL' AND company_id = c.id)",
        ),
        ({"missing_receipt": True}, " AND NOT e.receipt_present"),
        (
            {"missing_receipt": True, "uncategorized_only": True, "team": "Sales"},
            " AND NOT e.receipt_present AND e.category_id IS NULL"
            " AND e.team_id = (SELECT id FROM teams WHERE name = 'Sales' AND company_id = c.id)",
        ),
        (
            {"status": "approved", "date_from": "2026-03-01", "date_to": "2026-05-31"},
            " AND e.status = 'approved' AND e.spent_on BETWEEN '2026-03-01' AND '2026-05-31'",
        ),
        (
            {"min_amount": "100", "max_amount": "300.50"},
            " AND e.amount_company_minor BETWEEN 10000 AND 30050",
        ),
        (  # JSON numbers, as the MCP Inspector and many agents send amounts
            {"min_amount": 100, "max_amount": 300.5},
            " AND e.amount_company_minor BETWEEN 10000 AND 30050",
        ),
        ({"merchant": "100%"}, " AND e.descriptor LIKE 'STAPLES 100%'"),
        ({"merchant": "%"}, " AND e.descriptor LIKE 'STAPLES 100%'"),
        ({"merchant": "trip"}, " AND e.descriptor LIKE 'UBER *TRIP%'"),
        (
            {"merchant": "pret a"},
            " AND e.merchant_id IN (SELECT id FROM merchants WHERE name = 'Pret A Manger')",
        ),
        # The expenses' own dimensions: counted from the expenses, never from the monthly rollup (which
        # has none of them: a period of whole months would count every expense of those months).
        ({"cost_center": "CC-1"}, " AND e.cost_center = 'CC-1'"),
        (
            {"project": "Borealis", "date_from": "2026-02-01", "date_to": "2026-05-31"},
            " AND e.project = 'Borealis' AND e.spent_on BETWEEN '2026-02-01' AND '2026-05-31'",
        ),
        ({"dimensions": {"fund": "GF01"}}, f" AND e.id IN ({TAGGED} name = 'fund' AND value = 'GF01')"),
        (
            {"dimensions": {"fund": "RF02", "location": "Paris"}, "date_from": "2026-03-01"},
            f" AND e.id IN ({TAGGED} name = 'fund' AND value = 'RF02')"
            f" AND e.id IN ({TAGGED} name = 'location' AND value = 'Paris') AND e.spent_on >= '2026-03-01'",
        ),
        (
            {"cost_center": "CC-1", "project": "Apollo", "dimensions": {"location": "Berlin"}},
            " AND e.cost_center = 'CC-1' AND e.project = 'Apollo'"
            f" AND e.id IN ({TAGGED} name = 'location' AND value = 'Berlin')",
        ),
    ],
)
async def test_pages_walk_every_match_once_in_order(
    acme: Client, seeded_url: str, arguments: dict[str, Any], where: str
) -> None:
    expected = [ref for (ref,) in await raw(seeded_url, ALL_ACME + where + NEWEST_FIRST)]
    assert expected, "a case that matches nothing proves nothing"

    walked, pages = await walk(acme, arguments, limit=7)
    unpaginated = await call_ok(acme, "search_expenses", {**arguments, "limit": 200})

    assert walked == expected == [item["id"] for item in unpaginated["items"]]
    assert {page["total_matched"] for page in pages} == {len(expected)}
    assert not any(page["total_matched_capped"] for page in pages)
    assert [len(page["items"]) for page in pages[:-1]] == [7] * (len(pages) - 1)
    assert unpaginated["next_cursor"] is None


@pytest.mark.parametrize("text", ["staples 1_0", "staples 1/00", "staples 10/0%", "staples %0"])
async def test_the_patterns_own_characters_in_merchant_text_are_text_not_wildcards(
    acme: Client, text: str
) -> None:
    assert (await call_ok(acme, "search_expenses", {"merchant": "staples 100"}))["total_matched"] > 0

    page = await call_ok(acme, "search_expenses", {"merchant": text})

    assert (page["items"], page["total_matched"]) == ([], 0)


async def test_counting_a_text_filter_stops_at_the_cap_and_says_so(
    acme: Client, seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selection, "COUNT_CAP", 2)
    everything = await raw(seeded_url, ALL_ACME)

    capped = await acme.call_tool("search_expenses", {"min_amount": "0", "limit": 1})
    exact = await call_ok(acme, "search_expenses", {"limit": 1})  # the rollup counts, whatever the cap

    assert capped.structured_content is not None
    assert capped.structured_content["total_matched"] == 2
    assert capped.structured_content["total_matched_capped"] is True
    assert text_of(capped).startswith("1 expense of more than 2 matching")
    assert (exact["total_matched"], exact["total_matched_capped"]) == (len(everything), False)


async def test_a_first_page_that_holds_every_match_is_its_own_count(
    acme: Client, seeded_url: str, statements: list[str]
) -> None:
    expected = await raw(seeded_url, ALL_ACME + " AND e.amount_company_minor >= 10000")
    statements.clear()

    page = await call_ok(acme, "search_expenses", {"min_amount": "100", "limit": 200})

    assert (page["total_matched"], page["total_matched_capped"]) == (len(expected), False)
    assert page["next_cursor"] is None
    assert not [statement for statement in statements if "count(" in statement.lower()]


async def test_filters_come_back_resolved(acme: Client) -> None:
    page = await call_ok(
        acme,
        "search_expenses",
        {
            "team": "eng",
            "employee": "eve",
            "category": "soft",
            "min_amount": "5",
            "status": "pending",
            "missing_receipt": True,
            "cost_center": " CC-1 ",
            "dimensions": {" fund ": " GF01 "},
        },
    )

    assert page["filters"] == {
        "date_from": None,
        "date_to": None,
        "team": "Engineering",
        "employee": {"email": "eve@acme.example", "name": "Eve Adams"},
        "merchant": None,
        "merchant_text": None,
        "category": {"code": "SOFTWARE", "name": "Software"},
        "status": "pending",
        "min_amount": {"amount": "5.00", "currency": "EUR"},
        "max_amount": None,
        "uncategorized_only": False,
        "missing_receipt": True,
        "cost_center": "CC-1",
        "project": None,
        "dimensions": {"fund": "GF01"},
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"team": "Mark"},
            "'Mark' matches 3 teams: Market Research, Marketing, Marketing Ops; pass one of them exactly",
        ),
        ({"team": "Mktg"}, "no team named 'Mktg'; did you mean 'Marketing'?"),
        (
            {"employee": "Dan"},
            "'Dan' matches 2 employees: Dan Brown <dan@acme.example>, Dana Brown <dana@acme.example>; "
            "pass one of them exactly",
        ),
        (
            {"employee": "Dna Brown"},
            "no employee with e-mail or name 'Dna Brown'; did you mean 'Dana Brown' or 'Dan Brown'?",
        ),
        (
            {"category": "HARDWARE"},  # globex has one; acme does not
            "no category with code or name 'HARDWARE'; "
            "the categories are: MEALS, OFFICE, SOFTWARE, TRAVEL, TRAVEL-AIR",
        ),
        (
            {"employee": "hank"},
            "no employee with e-mail or name 'hank'; the employees are: Ann Lee, Bob Stone, "
            "Carla Diaz, Dan Brown, Dana Brown, Eve Adams, Old Timer",
        ),
    ],
)
async def test_names_that_match_several_or_none_list_candidates(
    acme: Client, arguments: dict[str, Any], message: str
) -> None:
    assert (
        await call_error(acme, "search_expenses", arguments)
        == f"Error executing tool search_expenses: {message}"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"date_from": "2026-05-01", "date_to": "2026-04-30"},
            "date_from 2026-05-01 is after date_to 2026-04-30",
        ),
        ({"min_amount": "500", "max_amount": "100"}, "min_amount 500 is above max_amount 100"),
        ({"min_amount": "1.234"}, "min_amount: 1.234 has more decimals than EUR allows"),
        (
            {"category": "TRAVEL", "uncategorized_only": True},
            "pass either category or uncategorized_only=true",
        ),
        ({"min_amount": "12,50"}, "'12,50' is not a decimal amount: use digits and a point, e.g. '1234.50'"),
        ({"limit": 0}, "limit: 0 is out of range; expected: a whole number from 1 to 200, e.g. 50"),
        ({"limit": 201}, "limit: 201 is out of range; expected: a whole number from 1 to 200, e.g. 50"),
        (
            {"status": "paid"},
            "status: \"paid\" is not a choice; expected one of: 'pending', 'approved', 'rejected' or "
            "'reimbursed'",
        ),
        ({"date_to": "2026-02-30"}, 'date_to: "2026-02-30" is no day of the calendar; expected: YYYY-MM-DD'),
        ({"cost_center": "C" * 65}, "cost_center: 65 characters; at most 64"),
        (  # globex has a grant dimension; acme does not
            {"dimensions": {"grant": "G-7"}},
            "Error executing tool search_expenses: dimensions: no free dimension named 'grant'; this "
            "company's dimensions are cost_center, project (arguments of their own) and the free ones: fund, "
            "location",
        ),
        (
            {"dimensions": {"fund": "GF01", "cost_center": "CC-1"}},
            "dimensions: no free dimension named 'cost_center'; this company's dimensions are cost_center",
        ),
    ],
)
async def test_bad_arguments_are_refused_with_a_clear_reason(
    acme: Client, arguments: dict[str, Any], message: str
) -> None:
    assert message in await call_error(acme, "search_expenses", arguments)


async def test_a_cursor_only_continues_the_search_it_came_from(acme: Client, globex: Client) -> None:
    filters = {"date_from": "2026-02-01", "limit": 5}
    cursor = (await call_ok(acme, "search_expenses", filters))["next_cursor"]
    foreign = (await call_ok(globex, "search_expenses", filters))["next_cursor"]
    tampered = cursor[:-3] + ("AAA" if cursor[-3:] != "AAA" else "BBB")

    damaged = "this cursor is damaged or was not issued by this server"
    mismatch = "this cursor is not valid for these filters; start again without a cursor"
    assert damaged in await call_error(acme, "search_expenses", {**filters, "cursor": tampered})
    assert damaged in await call_error(acme, "search_expenses", {**filters, "cursor": "not-a-cursor"})
    assert mismatch in await call_error(acme, "search_expenses", {**filters, "cursor": foreign})
    assert mismatch in await call_error(
        acme, "search_expenses", {**filters, "team": "Sales", "cursor": cursor}
    )
    # The page size may change between pages; the filters may not.
    assert (await call_ok(acme, "search_expenses", {**filters, "limit": 50, "cursor": cursor}))["items"]


async def test_a_cursor_continues_only_the_same_dimension_filters(acme: Client) -> None:
    filters = {"dimensions": {"fund": "GF01"}, "cost_center": "CC-1", "limit": 2}
    first = await call_ok(acme, "search_expenses", filters)
    cursor = first["next_cursor"]
    others: list[dict[str, Any]] = [
        {"dimensions": {"fund": "RF02"}, "cost_center": "CC-1"},
        {"dimensions": {"fund": "GF01", "location": "Paris"}, "cost_center": "CC-1"},
        {"dimensions": {"fund": "GF01"}},
        {"dimensions": {"fund": "GF01"}, "cost_center": "CC-2"},
        {"dimensions": {"fund": "GF01"}, "cost_center": "CC-1", "project": "Apollo"},
    ]

    for other in others:
        assert "this cursor is not valid for these filters" in await call_error(
            acme, "search_expenses", {**other, "limit": 2, "cursor": cursor}
        ), other
    # The same filters spelled with other spaces are the same search.
    same = {"dimensions": {" fund": "GF01 "}, "cost_center": "CC-1 ", "limit": 2, "cursor": cursor}
    second = await call_ok(acme, "search_expenses", same)
    assert first["total_matched"] > 2
    assert {item["id"] for item in second["items"]}.isdisjoint(item["id"] for item in first["items"])


def test_a_cursor_issued_before_the_dimension_filters_still_continues() -> None:
    """Unused, the filters added later leave the digest as it was (the value computed before them)."""
    filters = selection.ExpenseFilters(
        company_id=7, date_from=dt.date(2026, 2, 1), team_id=3, merchant_text="uber"
    )

    assert selection.filters_digest(filters) == "632e21ce4d2d80ca9a300c38377b5650"
    assert selection.filters_digest(replace(filters, project="Apollo")) != selection.filters_digest(filters)


async def test_the_filters_echo_uses_the_argument_names(acme: Client) -> None:
    page = await call_ok(acme, "search_expenses", {"merchant": "Uber", "limit": 1})
    search = {tool.name: tool for tool in (await acme.list_tools()).tools}["search_expenses"]
    assert search.output_schema is not None
    echo = search.output_schema["properties"]["filters"]["properties"]

    assert (page["filters"]["merchant"], page["filters"]["merchant_text"]) == ("Uber", "Uber")
    assert echo["merchant_text"]["description"].startswith("Deprecated: the same as `merchant`")
    assert set(echo) <= set(search.input_schema["properties"]) | {"merchant_text"}
