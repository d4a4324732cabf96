"""Two companies seeded once per backend: acme (EUR) and globex (USD).

They share team names, category codes, merchant names, employee names, expense refs, cost centers,
projects, dimension names and values on purpose, so that any lookup that forgets the company shows up
as a wrong answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from alembic import command
from mcp import Client
from mcp.server import MCPServer
from mcp_types import TextContent
from pydantic import SecretStr
from sqlalchemy import Date, bindparam, inspect, select, text

from server.app import build_server
from server.db.engine import create_engine, create_session_factory
from server.db.migrate import alembic_config
from server.db.models import Company
from server.db.rollups import rebuild_spend_rollups
from server.settings import Settings
from tests import factories as f

if TYPE_CHECKING:
    from sqlalchemy.engine import Inspector
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.sql.elements import TextClause

    from server.context import AppContext
    from server.db.models import Category, Company, Employee, Merchant, Team

TODAY = dt.date(2026, 7, 20)
# Every tool the server lists, on every transport: a tool added or dropped is a decision these tests see.
TOOLS = (
    "search_expenses",
    "get_expense",
    "summarize_spend",
    "suggest_approver",
    "submit_spend_request",
    "decide_approval",
    "categorize_expense",
    "categorize_expenses",
    "recategorize_expense",
    "forecast_budget",
    "forecast_budgets",
    "review_expenses",
    "get_job",
)
CURSOR_SECRET = "test-cursor-secret"
ACME_EXPENSES = 90  # generated ones, EXP-000001 .. EXP-000090, plus the hand-made EXP-000100
GLOBEX_EXPENSES = 30
STATUSES = ("pending", "approved", "rejected", "reimbursed")
SOURCES = ("human", "rule", "model", "llm")
TEAM_NAMES = ("Engineering", "Marketing", "Marketing Ops", "Market Research", "Sales")
ACME_DIMENSIONS = ("fund", "location")
GLOBEX_DIMENSIONS = ("fund", "grant")
T = TypeVar("T")


async def seed_world(url: str) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await _seed_acme(session)
            await _seed_globex(session)
            # What an import does after loading expenses: the forecast reads these rollups.
            for company_id in (await session.execute(select(Company.id))).scalars():
                await rebuild_spend_rollups(session, company_id)
    finally:
        await engine.dispose()


async def _teams(session: AsyncSession, company: Company, prefix: str) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    for index, name in enumerate(TEAM_NAMES):
        parent = teams["Marketing"] if name == "Marketing Ops" else None
        teams[name] = await f.make_team(
            session, company=company, name=name, parent=parent, cost_center=f"{prefix}-{100 + index}"
        )
    return teams


async def _seed_acme(session: AsyncSession) -> None:
    acme = await f.make_company(
        session, slug="acme", name="Acme Corp", currency="EUR", dimensions=ACME_DIMENSIONS
    )
    teams = await _teams(session, acme, "CC-A")
    people = {
        "ann": await f.make_employee(
            session, company=acme, team=teams["Marketing"], name="Ann Lee", role="manager", manages_team=True
        ),
        "bob": await f.make_employee(
            session,
            company=acme,
            team=teams["Engineering"],
            name="Bob Stone",
            role="manager",
            manages_team=True,
        ),
        "carla": await f.make_employee(session, company=acme, team=teams["Sales"], name="Carla Diaz"),
        "dan": await f.make_employee(session, company=acme, team=teams["Marketing Ops"], name="Dan Brown"),
        "dana": await f.make_employee(
            session, company=acme, team=teams["Market Research"], name="Dana Brown"
        ),
        "eve": await f.make_employee(session, company=acme, team=teams["Engineering"], name="Eve Adams"),
    }
    await f.make_employee(session, company=acme, team=teams["Sales"], name="Old Timer", active=False)
    travel = await f.make_category(
        session, company=acme, code="TRAVEL", name="Travel", gl_account="6100", vat_rate_bp=1000
    )
    categories = [
        travel,
        await f.make_category(
            session,
            company=acme,
            code="TRAVEL-AIR",
            name="Air travel",
            parent=travel,
            mcc_codes=("4511", "3008"),
        ),
        await f.make_category(
            session, company=acme, code="MEALS", name="Meals & Entertainment", vat_rate_bp=550
        ),
        await f.make_category(
            session,
            company=acme,
            code="SOFTWARE",
            name="Software",
            description="SaaS subscriptions and licences",
        ),
        await f.make_category(session, company=acme, code="OFFICE", name="Office supplies", vat_rate_bp=2000),
    ]
    merchants = [
        (await f.make_merchant(session, company=acme, name="Uber", mcc="4121"), "UBER *TRIP HELP.UBER.COM"),
        (await f.make_merchant(session, company=acme, name="Lufthansa", mcc="3008"), "LUFTHANSA 2201234"),
        (await f.make_merchant(session, company=acme, name="Slack", mcc="7372"), "SLACK T0123ABC"),
        (await f.make_merchant(session, company=acme, name="Pret A Manger", mcc="5812"), "PRET A MANGER #12"),
        (await f.make_merchant(session, company=acme, name="Staples", mcc="5111"), "STAPLES 100% RECYCLED"),
    ]
    staff = list(people.values())
    for i in range(1, ACME_EXPENSES + 1):
        await _generated_expense(
            session, acme, i, staff[i % len(staff)], merchants[(i * 3) % len(merchants)], categories
        )
    await _hand_made_expense(session, acme, people, categories[1], merchants[1][0])
    await f.make_budget(session, company=acme, team=teams["Marketing"], period="2026", amount="120000.00")
    await f.make_budget(
        session, company=acme, team=teams["Marketing"], period="2026-Q3", amount="10000.00", category=travel
    )
    await f.make_budget(session, company=acme, team=teams["Engineering"], period="2026-07", amount="5000.00")
    await f.make_budget(session, company=acme, team=teams["Sales"], period="2026-Q2", amount="8000.00")
    await f.make_policy(session, company=acme, version=1)
    await f.make_fx_rate(session, company=acme, currency="USD", rate="0.8500", valid_from=dt.date(2025, 1, 1))
    await f.make_fx_rate(session, company=acme, currency="USD", rate="0.9000", valid_from=dt.date(2026, 1, 1))
    await f.make_policy(
        session,
        company=acme,
        version=2,
        document={
            "rules": [{"name": "Large spend", "when": {"amount_over": "5000"}, "steps": ["finance_team"]}]
        },
        created_at=dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC),
    )


async def _generated_expense(
    session: AsyncSession,
    company: Company,
    i: int,
    employee: Employee,
    merchant: tuple[Merchant, str],
    categories: list[Category],
) -> None:
    amount = Decimal(f"{(i * 37) % 500 + 5}.{(i * 13) % 100:02d}") * (-1 if i % 10 == 0 else 1)
    foreign = i % 5 == 0
    source = SOURCES[i % len(SOURCES)]
    category = None if i % 7 == 0 else categories[(i * 3) % len(categories)]
    await f.make_expense(
        session,
        company=company,
        employee=employee,
        merchant=merchant[0],
        descriptor=merchant[1],
        ref=f"EXP-{i:06d}",
        # Three expenses a week, so that paging has to break ties on the same date.
        spent_on=dt.date(2026, 1, 3) + dt.timedelta(days=7 * (i // 3)),
        amount=str(amount),
        currency="USD" if foreign else None,
        amount_company=str((amount * Decimal("0.9")).quantize(Decimal("0.01"))) if foreign else None,
        status=STATUSES[i % len(STATUSES)],
        category=category,
        category_source=source,
        category_confidence=None if source == "human" else 0.5 + (i % 5) / 10,
        receipt=i % 3 == 0,
        **_acme_tags(i),
    )


def _acme_tags(i: int) -> dict[str, Any]:
    """Cost center, project and free dimensions of a generated expense; some have none of each."""
    dimensions = {
        "fund": ("GF01" if i % 2 else "RF02") if i % 5 else None,
        "location": ("Berlin", "Paris", None)[i % 3],
    }
    return {
        "cost_center": ("CC-1", "CC-2", None)[i % 3],
        "project": ("Apollo", "Borealis", None, None)[i % 4],
        "dimensions": {name: value for name, value in dimensions.items() if value is not None},
    }


async def _hand_made_expense(
    session: AsyncSession,
    company: Company,
    people: dict[str, Employee],
    category: Category,
    merchant: Merchant,
) -> None:
    expense = await f.make_expense(
        session,
        company=company,
        employee=people["ann"],
        merchant=merchant,
        ref="EXP-000100",
        spent_on=dt.date(2026, 7, 3),
        descriptor="LUFTHANSA 2209876 FRA-JFK",
        amount="412.50",
        currency="USD",
        amount_company="380.00",
        memo="Client visit New York",
        status="approved",
        category=category,
        category_source="model",
        category_confidence=0.87,
        receipt=True,
        cost_center="CC-9",
        project="Apollo",
        dimensions={"fund": "GF01", "location": "New York"},
    )
    request = await f.make_approval_request(
        session,
        company=company,
        ref="APR-0001",
        requester=people["ann"],
        amount="380.00",
        expense=expense,
        submitted_at=dt.datetime(2026, 6, 20, 8, 30, tzinfo=dt.UTC),
    )
    await f.make_decision(session, request=request, step=1, approver=people["dan"])
    await f.make_decision(
        session, request=request, step=2, approver=people["eve"], on_behalf_of=people["bob"]
    )


async def _seed_globex(session: AsyncSession) -> None:
    globex = await f.make_company(
        session, slug="globex", name="Globex Inc", currency="USD", dimensions=GLOBEX_DIMENSIONS
    )
    teams = await _teams(session, globex, "CC-G")
    ann = await f.make_employee(
        session, company=globex, team=teams["Marketing"], name="Ann Lee", manages_team=True
    )
    hank = await f.make_employee(session, company=globex, team=teams["Sales"], name="Hank Scorpio")
    travel = await f.make_category(session, company=globex, code="TRAVEL", name="Travel (Globex)")
    hardware = await f.make_category(session, company=globex, code="HARDWARE", name="Hardware")
    uber = await f.make_merchant(session, company=globex, name="Uber", mcc="4121")
    supplies = await f.make_merchant(session, company=globex, name="Globex Supplies", mcc="5111")
    for i in range(1, GLOBEX_EXPENSES + 1):
        await f.make_expense(
            session,
            company=globex,
            employee=ann if i % 2 else hank,
            merchant=uber if i % 2 else supplies,
            descriptor="UBER *TRIP GLOBEX" if i % 2 else "GLOBEX SUPPLIES 100%",
            ref=f"EXP-{i:06d}",
            spent_on=dt.date(2026, 1, 3) + dt.timedelta(days=7 * i),
            amount=f"{1000 + i}.00",
            category=travel if i % 2 else (hardware if i % 3 else None),
            cost_center="CC-1" if i % 2 else "CC-G",
            project="Apollo" if i % 3 == 0 else None,
            dimensions={"fund": "GF01" if i % 2 else "GX99", **({"grant": "G-7"} if i % 4 == 0 else {})},
        )
    secret = await f.make_expense(
        session,
        company=globex,
        employee=hank,
        merchant=supplies,
        ref="EXP-000100",
        spent_on=dt.date(2026, 7, 3),
        descriptor="GLOBEX DOOMSDAY DEVICE",
        amount="99999.00",
        cost_center="CC-9",
        dimensions={"fund": "GX99", "grant": "G-DOOM"},
    )
    request = await f.make_approval_request(
        session, company=globex, ref="APR-0001", requester=hank, amount="99999.00", expense=secret
    )
    await f.make_decision(session, request=request, step=1, approver=ann)
    # Only Globex has this id: Acme must not find it.
    await f.make_approval_request(
        session, company=globex, ref="APR-0002", requester=hank, amount="1200.00", status="pending"
    )
    await f.make_budget(session, company=globex, team=teams["Marketing"], period="2026-Q3", amount="99999.00")
    await f.make_budget(session, company=globex, team=teams["Sales"], period="2025", amount="5000.00")
    await f.make_policy(session, company=globex, version=7)


def build(url: str, company: str) -> MCPServer[AppContext]:
    """The server of `company` on the database at `url`, as `outlay serve` builds it (clock pinned)."""
    settings = Settings(
        database_url=url, company=company, today=TODAY, cursor_secret=SecretStr(CURSOR_SECRET)
    )
    return build_server(settings, local_company=company)


@asynccontextmanager
async def connect(server: MCPServer[AppContext], mode: str) -> AsyncIterator[Client]:
    """An in-memory MCP client; each connection runs the server's lifespan (engine, sessions) anew."""
    async with Client(server, mode=mode, raise_exceptions=True) as client:
        yield client


async def call_ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Structured content of a successful call."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def call_error(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """The message of a call the tool refused."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    assert len(result.content) == 1
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


async def raw(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Independent answers: hand-written SQL over the same rows (dates bound as dates on both backends)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(_statement(sql, params), params)]
    finally:
        await engine.dispose()


async def execute(url: str, sql: str, **params: Any) -> None:
    """One hand-written statement, committed: rows as an older schema (or a bug) left them."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(_statement(sql, params), params)
    finally:
        await engine.dispose()


def _statement(sql: str, params: dict[str, Any]) -> TextClause:
    return text(sql).bindparams(
        *(bindparam(name, type_=Date()) for name, value in params.items() if isinstance(value, dt.date))
    )


async def schema(url: str, read: Callable[[Inspector], T]) -> T:
    """What `read` finds in the schema of the database at `url` (the migrations' tests)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: read(inspect(sync)))
    finally:
        await engine.dispose()


async def migrate(url: str, revision: str, *, down: bool = False) -> None:
    """The database at `url` upgraded (or, `down`, downgraded) to `revision`, for the migrations' tests
    (Alembic runs its own event loop: in a worker thread)."""
    step = command.downgrade if down else command.upgrade
    await anyio.to_thread.run_sync(step, alembic_config(url), revision)
