"""get_expense through a real MCP client, on both backends and both protocol eras."""

from __future__ import annotations

import datetime as dt

import pytest
from mcp import Client
from sqlalchemy import select

from server.db.engine import create_engine, create_session_factory
from server.db.models import Company, Employee, Expense
from tests import factories as f
from tests.world import build, call_error, call_ok, connect, seed_world

pytestmark = pytest.mark.anyio

EXP_000100 = {
    "id": "EXP-000100",
    "date": "2026-07-03",
    "descriptor": "LUFTHANSA 2209876 FRA-JFK",
    "memo": "Client visit New York",
    "amount": {"amount": "412.50", "currency": "USD"},
    "amount_company": {"amount": "380.00", "currency": "EUR"},
    "status": "approved",
    "payment_type": "card",
    "merchant": {"name": "Lufthansa", "mcc": "3008", "mcc_description": "LUFTHANSA"},
    "category": {"code": "TRAVEL-AIR", "name": "Air travel", "source": "model", "confidence": 0.87},
    "employee": {"email": "ann@acme.example", "name": "Ann Lee"},
    "team": {"name": "Marketing", "cost_center": "CC-A-101"},
    "receipt_attached": True,
    "approvals": [
        {
            "id": "APR-0001",
            "status": "approved",
            "requester": {"email": "ann@acme.example", "name": "Ann Lee"},
            "amount": {"amount": "380.00", "currency": "EUR"},
            "submitted_at": "2026-06-20T08:30:00Z",
            "decisions": [
                {
                    "step": 1,
                    "approver": {"email": "dan@acme.example", "name": "Dan Brown"},
                    "on_behalf_of": None,
                    "decision": "approved",
                    "decided_at": "2026-06-20T09:30:00Z",
                },
                {
                    "step": 2,
                    "approver": {"email": "eve@acme.example", "name": "Eve Adams"},
                    "on_behalf_of": {"email": "bob@acme.example", "name": "Bob Stone"},
                    "decision": "approved",
                    "decided_at": "2026-06-20T10:30:00Z",
                },
            ],
        }
    ],
    "cost_center": "CC-9",
    "project": "Apollo",
    "dimensions": {"fund": "GF01", "location": "New York"},
}


async def test_one_expense_in_full(acme: Client) -> None:
    result = await acme.call_tool("get_expense", {"expense_id": "EXP-000100"})

    assert result.structured_content == EXP_000100
    assert result.content[0].text == (  # type: ignore[union-attr]
        "EXP-000100 on 2026-07-03: 412.50 USD at Lufthansa by Ann Lee (Marketing); category TRAVEL-AIR; "
        "approved; receipt attached; 1 approval request(s)."
    )


async def test_an_uncategorized_expense_without_approvals_nor_dimensions(acme: Client) -> None:
    detail = await call_ok(acme, "get_expense", {"expense_id": " EXP-000035 "})

    assert (detail["id"], detail["category"], detail["approvals"]) == ("EXP-000035", None, [])
    assert (detail["cost_center"], detail["project"], detail["dimensions"]) == (None, None, {})
    assert detail["merchant"] == {
        "name": "Uber",
        "mcc": "4121",
        "mcc_description": "Taxi-cabs and limousines",
    }


@pytest.mark.parametrize(
    ("expense_id", "message"),
    [
        ("EXP-999999", "no expense with id 'EXP-999999'; search_expenses lists ids"),
        ("000100", "no expense with id '000100'; did you mean 'EXP-000100'?"),
        ("exp-00009", "no expense with id 'exp-00009'; did you mean 'EXP-000090'?"),
    ],
)
async def test_an_unknown_id_is_not_found(acme: Client, expense_id: str, message: str) -> None:
    assert await call_error(acme, "get_expense", {"expense_id": expense_id}) == (
        f"Error executing tool get_expense: {message}"
    )


async def test_the_same_id_means_each_companys_own_expense(acme: Client, globex: Client) -> None:
    mine = await call_ok(acme, "get_expense", {"expense_id": "EXP-000100"})
    theirs = await call_ok(globex, "get_expense", {"expense_id": "EXP-000100"})

    assert mine == EXP_000100
    assert (theirs["descriptor"], theirs["amount"], theirs["employee"]["email"]) == (
        "GLOBEX DOOMSDAY DEVICE",
        {"amount": "99999.00", "currency": "USD"},
        "hank@globex.example",
    )
    assert (theirs["cost_center"], theirs["project"], theirs["dimensions"]) == (
        "CC-9",
        None,
        {"fund": "GX99", "grant": "G-DOOM"},
    )
    assert [decision["approver"]["email"] for decision in theirs["approvals"][0]["decisions"]] == [
        "ann@globex.example"
    ]


async def test_every_approval_request_of_an_expense_oldest_first(database_url: str) -> None:
    """An expense resubmitted after a rejection has two requests; the lookup that fetches them with the
    expense gives each once, in order, with its own decisions."""
    await seed_world(database_url)
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            company = await session.scalar(select(Company).where(Company.slug == "acme"))
            expense = await session.scalar(select(Expense).where(Expense.ref == "EXP-000100"))
            ann = await session.scalar(select(Employee).where(Employee.email == "ann@acme.example"))
            assert company is not None
            assert expense is not None
            assert ann is not None
            await f.make_approval_request(
                session,
                company=company,
                ref="APR-0000",
                requester=ann,
                amount="400.00",
                expense=expense,
                status="rejected",
                submitted_at=dt.datetime(2026, 6, 19, 8, 0, tzinfo=dt.UTC),
            )
    finally:
        await engine.dispose()

    async with connect(build(database_url, "acme"), "auto") as client:
        detail = await call_ok(client, "get_expense", {"expense_id": "EXP-000100"})

    assert [(a["id"], a["status"], len(a["decisions"])) for a in detail["approvals"]] == [
        ("APR-0000", "rejected", 0),
        ("APR-0001", "approved", 2),
    ]
    assert {k: v for k, v in detail.items() if k != "approvals"} == {
        k: v for k, v in EXP_000100.items() if k != "approvals"
    }
