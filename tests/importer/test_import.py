"""Importing the valid fixture folder, re-importing, --replace, and all-or-nothing writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.db.models import (
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalRequest,
    Budget,
    Category,
    Company,
    DataChange,
    Employee,
    Expense,
    Merchant,
    Team,
)
from server.importer import ImportFailed, ImportReport, import_company
from server.kit.approval_policy import EmployeeStep, ManagerOf, Policy, TeamManager
from tests.importer import edits
from tests.importer.conftest import VALID, copy_valid
from tests.importer.snapshot import row_counts, snapshot

pytestmark = pytest.mark.anyio

ACME = ImportReport(
    company_slug="acme",
    teams=3,
    employees=6,
    categories=5,
    merchants=16,
    expenses=20,
    budgets=4,
    approval_requests=3,
    approval_decisions=4,
    replaced=False,
)


def utc(value: dt.datetime) -> dt.datetime:
    """SQLite gives timestamps back without their (UTC) zone."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def rows(engine: AsyncEngine, *columns: Any, order_by: Any = None) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        query = select(*columns).order_by(order_by if order_by is not None else columns[0])
        return [tuple(row) for row in await connection.execute(query)]


async def test_imports_every_file(engine: AsyncEngine) -> None:
    report = await import_company(create_session_factory(engine), VALID)

    assert report == ACME
    assert report.counts == {
        "teams": 3,
        "employees": 6,
        "categories": 5,
        "merchants": 16,
        "expenses": 20,
        "budgets": 4,
        "approval_requests": 3,
        "approval_decisions": 4,
        "fx_rates": 0,  # the folder has no fx_rates.csv (optional)
        "category_rules": 0,  # nor category_rules.csv (optional)
        "expense_dimensions": 0,  # nor dim_<name> columns
    }
    counts = await row_counts(engine)
    assert counts["companies"] == 1
    assert counts["approval_policies"] == 1
    assert counts["data_changes"] == 1
    assert {name: counts[name] for name in report.counts} == report.counts


async def test_links_the_organization(engine: AsyncEngine) -> None:
    await import_company(create_session_factory(engine), VALID)

    emails = dict(await rows(engine, Employee.id, Employee.email))
    teams = dict(await rows(engine, Team.id, Team.name))
    assert [
        (teams[t], teams.get(p), emails.get(m), cc)
        for t, p, m, cc in await rows(engine, Team.id, Team.parent_id, Team.manager_id, Team.cost_center)
    ] == [
        ("Executive", None, "ceo@acme.test", "CC-100"),
        ("Engineering", "Executive", "cto@acme.test", "CC-200"),  # CTO@acme.test in teams.csv
        ("Sales", "Executive", "sales.lead@acme.test", "CC-300"),
    ]
    people = await rows(
        engine,
        Employee.email,
        Employee.team_id,
        Employee.manager_id,
        Employee.role,
        Employee.approval_limit_minor,
        Employee.active,
        Employee.out_of_office_from,
        Employee.out_of_office_until,
        Employee.delegate_id,
        order_by=Employee.id,
    )
    assert [(e, teams[t], emails.get(m), *rest[:5], emails.get(rest[5])) for e, t, m, *rest in people] == [
        ("ceo@acme.test", "Executive", None, "ceo", 100_000_000, True, None, None, None),
        ("cfo@acme.test", "Executive", "ceo@acme.test", "cfo", 5_000_000, True, None, None, None),
        (
            "cto@acme.test",
            "Engineering",
            "ceo@acme.test",
            "director",
            2_000_000,
            True,
            dt.date(2026, 3, 2),
            dt.date(2026, 3, 13),
            "dev.lead@acme.test",
        ),
        ("dev.lead@acme.test", "Engineering", "cto@acme.test", "engineer", 250_000, True, None, None, None),
        ("sales.lead@acme.test", "Sales", "ceo@acme.test", "manager", 500_000, True, None, None, None),
        ("rep@acme.test", "Sales", "sales.lead@acme.test", "employee", None, False, None, None, None),
    ]


async def test_categories_and_budgets(engine: AsyncEngine) -> None:
    await import_company(create_session_factory(engine), VALID)

    codes = dict(await rows(engine, Category.id, Category.code))
    categories = await rows(
        engine,
        Category.code,
        Category.parent_id,
        Category.gl_account,
        Category.vat_rate_bp,
        Category.mcc_codes,
    )
    assert [(code, codes.get(parent), *rest) for code, parent, *rest in categories] == [
        ("MEALS", None, "6200", 1000, ["5812", "5814"]),
        ("OFFICE", None, "6400", 550, ["5943"]),
        ("SOFTWARE", None, "6300", 2000, ["5734", "5817"]),
        ("TRAVEL", None, "6100", None, []),
        ("TRAVEL-AIR", "TRAVEL", "6110", 0, ["4511", "3000"]),
    ]
    teams = dict(await rows(engine, Team.id, Team.name))
    budgets = await rows(
        engine,
        Budget.team_id,
        Budget.category_id,
        Budget.period_start,
        Budget.period_end,
        Budget.amount_minor,
        Budget.currency,
        order_by=Budget.id,
    )
    assert [(teams[t], codes.get(c), *rest) for t, c, *rest in budgets] == [
        ("Engineering", None, dt.date(2026, 1, 1), dt.date(2026, 12, 31), 12_000_000, "EUR"),
        ("Engineering", "SOFTWARE", dt.date(2026, 1, 1), dt.date(2026, 3, 31), 1_500_000, "EUR"),
        ("Sales", "MEALS", dt.date(2026, 3, 1), dt.date(2026, 3, 31), 200_000, "EUR"),
        ("Sales", None, dt.date(2026, 1, 1), dt.date(2026, 3, 31), 3_000_000, "EUR"),
    ]


async def test_expenses_defaults_fx_and_merchants(engine: AsyncEngine) -> None:
    await import_company(create_session_factory(engine), VALID)

    teams = dict(await rows(engine, Team.id, Team.name))
    merchants = dict(await rows(engine, Merchant.id, Merchant.name))
    codes = dict(await rows(engine, Category.id, Category.code))
    expenses = {
        ref: (merchants[m], amount, currency, company, teams[t], codes.get(c), source, memo, receipt)
        for ref, m, amount, currency, company, t, c, source, memo, receipt in await rows(
            engine,
            Expense.ref,
            Expense.merchant_id,
            Expense.amount_minor,
            Expense.currency,
            Expense.amount_company_minor,
            Expense.team_id,
            Expense.category_id,
            Expense.category_source,
            Expense.memo,
            Expense.receipt_present,
        )
    }
    assert {
        ref: expenses[ref] for ref in ("E-001", "E-002", "E-004", "E-005", "E-007", "E-009", "E-011", "E-020")
    } == {
        # merchant given; team: the employee's; category source: human by default
        "E-001": ("GitHub", 1900, "EUR", 1900, "Engineering", "SOFTWARE", "human", "Team plan", True),
        # merchant derived from 'UBER *TRIP HELP.UBER.COM'
        "E-002": ("UBER", 2340, "EUR", 2340, "Sales", "TRAVEL", "rule", "Client visit", True),
        "E-004": (
            "DELTA AIR",
            64218,
            "USD",
            59035,
            "Engineering",
            "TRAVEL-AIR",
            "model",
            "NYC offsite",
            True,
        ),
        # uncategorized: no category source
        "E-005": ("SPOTIFY", 999, "EUR", 999, "Sales", None, None, None, False),
        "E-007": (
            "HOTEL OKURA TOKYO",
            48000,
            "JPY",
            29512,
            "Executive",
            "TRAVEL",
            "human",
            "Tokyo partner meeting",
            True,
        ),
        # charged to another team than the employee's
        "E-009": (
            "BLUE BOTTLE COFFEE",
            820,
            "EUR",
            820,
            "Executive",
            "MEALS",
            "human",
            "Coffee with the CEO",
            True,
        ),
        "E-011": (
            "GitHub",
            -1900,
            "EUR",
            -1900,
            "Engineering",
            "SOFTWARE",
            "human",
            "Refund of duplicate charge",
            True,
        ),
        # a quoted memo over two lines
        "E-020": (
            "ZOOM.US",
            1399,
            "EUR",
            1399,
            "Engineering",
            "SOFTWARE",
            "human",
            "Webinar plan\n(monthly)",
            True,
        ),
    }
    assert await rows(engine, Merchant.name, Merchant.mcc, order_by=Merchant.name) == [
        ("AMZN MKTP DE", "5943"),
        ("AWS EMEA", "4816"),
        ("BLUE BOTTLE COFFEE", "5814"),
        ("DELTA AIR", "3058"),
        ("GitHub", "5734"),
        ("HOTEL OKURA TOKYO", "7011"),
        ("JETBRAINS S.R.O.", "5734"),
        ("LINKEDIN", "7311"),
        ("LUFTHANSA", "3008"),
        ("RESTAURANT LE PETIT", "5812"),
        ("SPOTIFY", "5815"),
        ("STAPLES", "5943"),
        ("Slack", "5817"),
        ("THE SAVOY LONDON", "7011"),
        ("UBER", "4121"),  # 2 trips (4121) outweigh 1 UBER *EATS (5812)
        ("ZOOM.US", "4814"),
    ]


async def test_history_policy_and_audit(engine: AsyncEngine) -> None:
    await import_company(create_session_factory(engine), VALID, actor="test")

    emails = dict(await rows(engine, Employee.id, Employee.email))
    expenses = dict(await rows(engine, Expense.id, Expense.ref))
    requests = await rows(
        engine,
        ApprovalRequest.ref,
        ApprovalRequest.requester_id,
        ApprovalRequest.amount_company_minor,
        ApprovalRequest.status,
        ApprovalRequest.submitted_at,
        ApprovalRequest.expense_id,
    )
    assert [
        (ref, emails[r], amount, status, utc(at), expenses.get(e))
        for ref, r, amount, status, at, e in requests
    ] == [
        ("R-001", "rep@acme.test", 2340, "approved", dt.datetime(2026, 1, 6, 8, tzinfo=dt.UTC), "E-002"),
        ("R-002", "cto@acme.test", 59035, "approved", dt.datetime(2026, 1, 10, 14, tzinfo=dt.UTC), "E-004"),
        ("R-003", "rep@acme.test", 18400, "rejected", dt.datetime(2026, 2, 24, 18, tzinfo=dt.UTC), None),
    ]
    decisions = await rows(
        engine,
        ApprovalDecision.step,
        ApprovalDecision.approver_id,
        ApprovalDecision.on_behalf_of_id,
        ApprovalDecision.decision,
        order_by=ApprovalDecision.id,
    )
    assert [(step, emails[a], emails.get(b), d) for step, a, b, d in decisions] == [
        (1, "sales.lead@acme.test", None, "approved"),
        (1, "ceo@acme.test", None, "approved"),
        (2, "cfo@acme.test", None, "approved"),
        (1, "cfo@acme.test", "sales.lead@acme.test", "rejected"),
    ]
    [(version, document)] = await rows(engine, ApprovalPolicy.version, ApprovalPolicy.document)
    policy = Policy.model_validate(document)
    assert version == 1
    assert [rule.name for rule in policy.rules] == [
        "Manager signs everything",
        "Large spend",
        "Software",
        "Sales travel",
    ]
    assert policy.rules[1].when.amount_over == Decimal(5000)
    assert policy.rules[1].steps[0] == ManagerOf(of=TeamManager())
    assert policy.rules[2].steps == (EmployeeStep(email="cfo@acme.test"),)
    [(actor, action, details)] = await rows(engine, DataChange.actor, DataChange.action, DataChange.details)
    assert (actor, action) == ("test", "import")
    assert details == {"source": str(VALID), "replaced": False, "counts": ACME.counts}


async def test_refuses_an_existing_company_without_replace(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    await import_company(sessions, VALID)
    before = await snapshot(engine)

    with pytest.raises(ImportFailed) as failed:
        await import_company(sessions, VALID)

    assert [str(problem) for problem in failed.value.problems] == [
        "company.csv:2: slug: company 'acme' already exists; use --replace to replace it"
    ]
    assert await snapshot(engine) == before


async def test_replace_replaces_only_that_company(engine: AsyncEngine, tmp_path: Path) -> None:
    sessions = create_session_factory(engine)
    await import_company(sessions, VALID)
    await import_company(sessions, copy_valid(tmp_path / "globex", slug="globex"))
    async with sessions() as session:
        companies = dict((await session.execute(select(Company.slug, Company.id))).all())
    globex_before = await row_counts(engine, companies["globex"])
    smaller = copy_valid(tmp_path / "acme-v2")
    expenses = smaller / "expenses.csv"
    expenses.write_text("".join(expenses.read_text().splitlines(keepends=True)[:6]))  # E-001 .. E-005
    (smaller / "approval_history.csv").unlink()
    company = smaller / "company.csv"
    company.write_text(company.read_text().replace("Acme Robotics GmbH", "Acme Robotics AG"))

    report = await import_company(sessions, smaller, replace=True)

    assert report == ImportReport(
        company_slug="acme",
        teams=3,
        employees=6,
        categories=5,
        merchants=5,
        expenses=5,
        budgets=4,
        approval_requests=0,
        approval_decisions=0,
        replaced=True,
    )
    assert await row_counts(engine, companies["globex"]) == globex_before
    acme = await row_counts(engine, companies["acme"])
    assert {name: acme[name] for name in report.counts} == report.counts
    assert acme["data_changes"] == 2  # the record of imports survives a replace
    assert await rows(engine, Company.id, Company.slug, Company.name) == [
        (companies["acme"], "acme", "Acme Robotics AG"),
        (companies["globex"], "globex", "Acme Robotics GmbH"),
    ]


async def test_a_replace_with_problems_leaves_the_company_as_it_was(
    engine: AsyncEngine, folder: Path
) -> None:
    sessions = create_session_factory(engine)
    await import_company(sessions, VALID)
    before = await snapshot(engine)
    edits.replace("expenses.csv", "E-010,2026-02-10", "E-010,2026-02-31")(folder)

    with pytest.raises(ImportFailed) as failed:
        await import_company(sessions, folder, replace=True)

    assert [str(problem) for problem in failed.value.problems] == [
        "expenses.csv:11: date: '2026-02-31' is not a date (YYYY-MM-DD)"
    ]
    assert await snapshot(engine) == before


@pytest.mark.parametrize("replace", [False, True], ids=["new", "replace"])
async def test_a_failing_write_leaves_nothing(engine: AsyncEngine, tmp_path: Path, replace: bool) -> None:
    """A database error in the middle of the writes rolls every write back, the deletes of a replace too."""
    sessions = create_session_factory(engine)
    await import_company(sessions, copy_valid(tmp_path / "globex", slug="globex"))
    if replace:
        await import_company(sessions, VALID)
    before = await snapshot(engine)

    def fail_on_budgets(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO budgets"):
            raise RuntimeError("disk full")

    event.listen(engine.sync_engine, "before_cursor_execute", fail_on_budgets)
    with pytest.raises(RuntimeError, match="disk full"):
        await import_company(sessions, VALID, replace=replace)
    event.remove(engine.sync_engine, "before_cursor_execute", fail_on_budgets)

    assert await snapshot(engine) == before
