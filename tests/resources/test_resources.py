"""Resources and completions through a real MCP client, on both backends and both protocol eras."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp_types import INVALID_PARAMS, PromptReference, ResourceTemplateReference, TextResourceContents

from tests.tools.test_get_expense import EXP_000100
from tests.world import call_ok

pytestmark = pytest.mark.anyio

BUDGETS = ResourceTemplateReference(uri="outlay://budgets/{period}")
EXPENSES = ResourceTemplateReference(uri="outlay://expenses/{expense_id}")


async def read_json(client: Client, uri: str) -> Any:
    result = await client.read_resource(uri)
    [contents] = result.contents
    assert isinstance(contents, TextResourceContents)
    assert (contents.uri, contents.mime_type) == (uri, "application/json")
    return json.loads(contents.text)


async def test_resources_and_templates_are_listed_as_json(acme: Client) -> None:
    resources = (await acme.list_resources()).resources
    templates = (await acme.list_resource_templates()).resource_templates

    assert sorted((str(r.uri), r.mime_type) for r in resources) == [
        ("outlay://categories", "application/json"),
        ("outlay://forecasts/latest", "application/json"),
        ("outlay://policy/approvals", "application/json"),
        ("outlay://policy/expenses", "application/json"),
        ("outlay://teams", "application/json"),
    ]
    assert sorted((t.uri_template, t.mime_type) for t in templates) == [
        ("outlay://budgets/{period}", "application/json"),
        ("outlay://expenses/{expense_id}", "application/json"),
        ("outlay://people/absences{?date}", "application/json"),
    ]
    assert all(r.description for r in resources)
    assert all(t.description for t in templates)


async def test_categories(acme: Client) -> None:
    def category(code: str, name: str, **fields: Any) -> dict[str, Any]:
        empty: dict[str, Any] = {
            "parent_code": None,
            "gl_account": None,
            "vat_rate": None,
            "description": None,
            "mcc_codes": [],
        }
        return {"code": code, "name": name, **empty, **fields}

    assert await read_json(acme, "outlay://categories") == {
        "company": "Acme Corp",
        "categories": [
            category("MEALS", "Meals & Entertainment", vat_rate="5.5"),
            category("OFFICE", "Office supplies", vat_rate="20"),
            category("SOFTWARE", "Software", description="SaaS subscriptions and licences"),
            category("TRAVEL", "Travel", gl_account="6100", vat_rate="10"),
            category("TRAVEL-AIR", "Air travel", parent_code="TRAVEL", mcc_codes=["4511", "3008"]),
        ],
    }


async def test_teams_form_a_hierarchy_with_managers_and_cost_centers(acme: Client) -> None:
    def team(
        name: str, cost_center: str, headcount: int, manager: str | None = None, **more: Any
    ) -> dict[str, Any]:
        boss = (
            None
            if manager is None
            else {"email": f"{manager.split()[0].lower()}@acme.example", "name": manager}
        )
        node: dict[str, Any] = {
            "name": name,
            "cost_center": cost_center,
            "manager": boss,
            "headcount": headcount,
            "children": [],
        }
        return node | more

    assert await read_json(acme, "outlay://teams") == {
        "company": "Acme Corp",
        "teams": [
            team("Engineering", "CC-A-100", 2, "Bob Stone"),
            team("Market Research", "CC-A-103", 1),
            team("Marketing", "CC-A-101", 1, "Ann Lee", children=[team("Marketing Ops", "CC-A-102", 1)]),
            team("Sales", "CC-A-104", 1),  # the inactive employee does not count
        ],
    }


async def test_the_approval_policy_in_force_is_the_latest_version(acme: Client, globex: Client) -> None:
    assert await read_json(acme, "outlay://policy/approvals") == {
        "company": "Acme Corp",
        "version": 2,
        "created_at": "2026-03-01T12:00:00Z",
        "policy": {
            "rules": [{"name": "Large spend", "when": {"amount_over": "5000"}, "steps": ["finance_team"]}]
        },
    }
    assert (await read_json(globex, "outlay://policy/approvals"))["version"] == 7


def budget(team: str, period: str, start: str, end: str, amount: str, category: Any = None) -> dict[str, Any]:
    return {
        "team": team,
        "category": category,
        "period": period,
        "date_from": start,
        "date_to": end,
        "amount": amount,
    }


ANNUAL = budget("Marketing", "2026", "2026-01-01", "2026-12-31", "120000.00")


@pytest.mark.parametrize(
    ("period", "span", "budgets"),
    [
        (
            "2026-Q3",
            ("2026-07-01", "2026-09-30"),
            [
                ANNUAL,
                budget(
                    "Marketing",
                    "2026-Q3",
                    "2026-07-01",
                    "2026-09-30",
                    "10000.00",
                    {"code": "TRAVEL", "name": "Travel"},
                ),
                budget("Engineering", "2026-07", "2026-07-01", "2026-07-31", "5000.00"),
            ],
        ),
        (
            "2026-05",
            ("2026-05-01", "2026-05-31"),
            [ANNUAL, budget("Sales", "2026-Q2", "2026-04-01", "2026-06-30", "8000.00")],
        ),
        ("2025", ("2025-01-01", "2025-12-31"), []),
    ],
)
async def test_budgets_overlapping_a_period(
    acme: Client, period: str, span: tuple[str, str], budgets: list[dict[str, Any]]
) -> None:
    assert await read_json(acme, f"outlay://budgets/{period}") == {
        "company": "Acme Corp",
        "period": period,
        "date_from": span[0],
        "date_to": span[1],
        "currency": "EUR",
        "budgets": budgets,
    }


async def test_an_expense_reads_as_get_expense_returns_it(acme: Client) -> None:
    assert await read_json(acme, "outlay://expenses/EXP-000100") == EXP_000100
    assert await read_json(acme, "outlay://expenses/EXP-000042") == await call_ok(
        acme, "get_expense", {"expense_id": "EXP-000042"}
    )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("outlay://expenses/EXP-999999", "no expense with id 'EXP-999999'; search_expenses lists ids"),
        (
            "outlay://budgets/2026-13",
            "no budget period '2026-13': use a year (2026), a quarter (2026-Q3) or a month",
        ),
        ("outlay://budgets/..", "Unknown resource: outlay://budgets/.."),
        ("outlay://nothing", "Unknown resource: outlay://nothing"),
    ],
)
async def test_unknown_resources_are_invalid_params(acme: Client, uri: str, message: str) -> None:
    with pytest.raises(MCPError) as raised:
        await acme.read_resource(uri)

    assert raised.value.code == INVALID_PARAMS
    assert raised.value.error.message.startswith(message)


@pytest.mark.parametrize(
    ("ref", "name", "value", "values", "has_more"),
    [
        (BUDGETS, "period", "", ["2026", "2026-07", "2026-Q2", "2026-Q3"], False),
        (BUDGETS, "period", "2026-q", ["2026-Q2", "2026-Q3"], False),
        (BUDGETS, "period", "2025", [], False),
        (EXPENSES, "expense_id", "exp-00009", ["EXP-000090"], False),
        (EXPENSES, "expense_id", "EXP-00010", ["EXP-000100"], False),
        (
            EXPENSES,
            "expense_id",
            "EXP-00001",
            [f"EXP-0000{n}" for n in range(10, 20)],
            False,
        ),
        (EXPENSES, "expense_id", "", [f"EXP-0000{n:02d}" for n in range(1, 21)], True),
        (EXPENSES, "other", "EXP", [], None),
        (PromptReference(name="anything"), "period", "", [], None),
    ],
)
async def test_completions_offer_the_companys_own_values(
    acme: Client,
    ref: ResourceTemplateReference | PromptReference,
    name: str,
    value: str,
    values: list[str],
    has_more: bool | None,
) -> None:
    completion = (await acme.complete(ref, {"name": name, "value": value})).completion

    assert (completion.values, completion.has_more) == (values, has_more)
