"""`outlay import --append`: new expenses added by the file's ids, existing ones never changed, and a
company built month by month is the company one import of every month gives."""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_engine, create_session_factory
from server.importer import ImportFailed, import_company, import_export
from tests.importer import edits, ledgers
from tests.importer.conftest import copy_valid
from tests.world import build, call_ok, connect, raw

pytestmark = pytest.mark.anyio

STATEMENT = Path(__file__).parent / "fixtures" / "statement" / "statement.csv"
CARD_STATEMENT = ledgers.MAPPINGS / "card-statement.yaml"
BIRMINGHAM = ledgers.MAPPINGS / "birmingham.yaml"
HEADER, FIRST_ROW = STATEMENT.read_text().splitlines()[:2]
EXPENSES = "SELECT ref, amount_minor, team_id, category_id, employee_id FROM expenses ORDER BY ref"
MONTHS = [f"2019-{m:02d}" for m in range(1, 13)]
PER_MONTH = 250


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


async def _statement(engine: AsyncEngine, export: Path, **options: Any) -> Any:
    sessions = create_session_factory(engine)
    return await import_export(sessions, export, CARD_STATEMENT, company="example", **options)


async def test_the_same_statement_twice_adds_nothing_and_says_so(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    export = Path(shutil.copy(STATEMENT, tmp_path / "statement.csv"))
    await _statement(engine, export)
    before = await raw(
        database_url, "SELECT ref, amount_minor, team_id, category_id FROM expenses ORDER BY ref"
    )

    again = await _statement(engine, export, append=True)

    assert (again.appended, again.expenses, again.expenses_there, again.teams, again.merchants) == (
        True, 0, 5, 0, 0
    )  # fmt: skip
    assert (
        await raw(database_url, "SELECT ref, amount_minor, team_id, category_id FROM expenses ORDER BY ref")
        == before
    )


async def test_an_append_adds_the_new_rows_and_what_they_name(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    first = Path(shutil.copy(STATEMENT, tmp_path / "statement.csv"))
    await _statement(engine, first)
    april = "R-6;01.04.2026;FIGMA.COM;-45,00;EUR;Design;;;Software;;Leeds"
    later = _write(tmp_path / "april.csv", HEADER, FIRST_ROW, april)  # R-1 again, and a new row

    added = await _statement(engine, later, append=True)

    assert (added.expenses, added.expenses_there, added.teams, added.categories) == (1, 1, 1, 0)
    stored = await raw(
        database_url,
        "SELECT e.ref, t.name, c.code FROM expenses e JOIN teams t ON t.id = e.team_id "
        "JOIN categories c ON c.id = e.category_id WHERE e.ref = 'STM-R-6'",
    )
    assert stored == [("STM-R-6", "Design", "SOFTWARE")]  # the existing category, found by its name
    assert await raw(database_url, "SELECT sum(expenses) FROM spend_monthly") == [(6,)]  # rollups current


async def test_a_dry_run_of_an_append_says_what_it_would_add_and_writes_nothing(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    first = Path(shutil.copy(STATEMENT, tmp_path / "statement.csv"))
    await _statement(engine, first)
    april = "R-6;01.04.2026;FIGMA.COM;-45,00;EUR;Design;;;Software;;Leeds"
    later = _write(tmp_path / "april.csv", HEADER, FIRST_ROW, april)
    before = await raw(database_url, EXPENSES)

    would = await _statement(engine, later, append=True, dry_run=True)

    assert (would.dry_run, would.expenses, would.expenses_there, would.teams) == (True, 1, 1, 1)
    assert [e.ref for e in would.preview] == ["STM-R-6"]
    assert await raw(database_url, EXPENSES) == before
    assert await raw(database_url, "SELECT count(*) FROM teams WHERE name = 'Design'") == [(0,)]


async def test_an_existing_id_with_another_transaction_is_refused_and_nothing_is_written(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    export = Path(shutil.copy(STATEMENT, tmp_path / "statement.csv"))
    await _statement(engine, export)
    edits.replace("statement.csv", "-1.320,44;", "-1.320,45;")(tmp_path)
    edits.append("statement.csv", "R-9;09.03.2026;NEW ONE;-1,00;EUR;Sales;;;;;")(tmp_path)

    with pytest.raises(ImportFailed) as failed:
        await _statement(engine, export, append=True)

    assert [str(p) for p in failed.value.problems] == [
        "statement.csv:3: id: expense 'STM-R-2' is already in the company with another amount, "
        "amount_company; an append never changes an expense (give this one another id, or use --replace)"
    ]
    assert await raw(database_url, "SELECT count(*) FROM expenses") == [(5,)]


async def test_appending_needs_the_company(engine: AsyncEngine, tmp_path: Path) -> None:
    export = Path(shutil.copy(STATEMENT, tmp_path / "statement.csv"))

    with pytest.raises(ImportFailed) as failed:
        await _statement(engine, export, append=True)

    assert [str(p) for p in failed.value.problems] == [
        "card-statement.yaml:0: company.slug: no company 'example' to append to; import it first"
    ]


async def test_strict_refuses_a_team_the_company_does_not_have(engine: AsyncEngine, tmp_path: Path) -> None:
    export = Path(shutil.copy(STATEMENT, tmp_path / "statement.csv"))
    await _statement(engine, export)
    edits.append("statement.csv", "R-7;07.03.2026;FIGMA.COM;-45,00;EUR;Design;;;;;")(tmp_path)

    with pytest.raises(ImportFailed) as failed:
        await _statement(engine, export, append=True, strict=True)

    assert [str(p) for p in failed.value.problems] == [
        "statement.csv:7: Department: no team 'Design' in the company; --strict creates no team"
    ]


async def test_a_folder_appends_its_new_expenses(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    folder = copy_valid(tmp_path / "acme")
    sessions = create_session_factory(engine)
    await import_company(sessions, folder)
    edits.append(
        "expenses.csv", "E-021,2026-03-25,rep@acme.test,,FIGMA.COM,,,45.00,EUR,,,pending,card,,,false"
    )(folder)

    added = await import_company(sessions, folder, append=True)

    assert (added.expenses, added.expenses_there, added.approval_requests, added.requests_there) == (
        1,
        20,
        0,
        3,
    )
    assert await raw(database_url, "SELECT count(*) FROM approval_policies") == [(1,)]  # kept as it was


# ---- twelve monthly statements appended == one import of the year ----------------------------------


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """Birmingham's 2019 as one export and as twelve monthly statements (the first rows of each month)."""
    header, records = ledgers.rows(ledgers.BIRMINGHAM)
    by_month: dict[str, list[ledgers.Record]] = defaultdict(list)
    for record in records:
        month = record["statement_month"]
        sterling = record["currency"] in ("", "GBP")  # the others have no rate: left out, counted
        if month in MONTHS and sterling and len(by_month[month]) < PER_MONTH:
            by_month[month].append(record)
    folder = tmp_path_factory.mktemp("birmingham-2019")
    whole = ledgers.write(folder / "2019.csv.gz", header, [r for m in MONTHS for r in by_month[m]])
    return whole, [ledgers.write(folder / f"{m}.csv", header, by_month[m]) for m in MONTHS]


@pytest.fixture
def two_databases(make_database: Callable[[str], str], backend: str) -> tuple[str, str]:
    """Made outside the test's event loop: the first one may migrate a template."""
    return make_database(backend), make_database(backend)


async def test_twelve_monthly_appends_give_the_company_one_import_gives(
    year: tuple[Path, list[Path]], two_databases: tuple[str, str]
) -> None:
    whole, months = year
    at_once, month_by_month = two_databases
    await _load(at_once, [whole])
    reports = await _load(month_by_month, months)

    assert [r.expenses for r in reports] == [PER_MONTH] * 12
    assert all(r.expenses_there == 0 for r in reports[1:])
    for query in STATE:
        assert await raw(month_by_month, query) == await raw(at_once, query), query
    assert await _answers(month_by_month) == await _answers(at_once)


async def _load(url: str, exports: list[Path]) -> list[Any]:
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        return [
            await import_export(sessions, export, BIRMINGHAM, append=index > 0)
            for index, export in enumerate(exports)
        ]
    finally:
        await engine.dispose()


# Everything by natural keys (ids differ between two databases).
STATE = (
    "SELECT e.ref, e.spent_on, e.descriptor, e.amount_minor, e.currency, e.amount_company_minor, t.name, "
    "c.code, m.name, e.mcc, e.cost_center, e.status, e.employee_id FROM expenses e "
    "JOIN teams t ON t.id = e.team_id JOIN merchants m ON m.id = e.merchant_id "
    "LEFT JOIN categories c ON c.id = e.category_id ORDER BY e.ref",
    "SELECT e.ref, d.name, d.value FROM expense_dimensions d JOIN expenses e ON e.id = d.expense_id "
    "ORDER BY e.ref, d.name",
    "SELECT t.name, c.code, s.month, s.total_minor, s.expenses FROM spend_monthly s "
    "JOIN teams t ON t.id = s.team_id LEFT JOIN categories c ON c.id = s.category_id "
    "ORDER BY t.name, c.code, s.month",
    "SELECT t.name, s.spent_on, s.total_minor, s.expenses FROM team_daily_spend s "
    "JOIN teams t ON t.id = s.team_id ORDER BY t.name, s.spent_on",
    "SELECT e.ref, t.name, m.name, r.spent_on, r.amount_minor FROM repeat_charges r "
    "JOIN expenses e ON e.id = r.expense_id JOIN teams t ON t.id = r.team_id "
    "JOIN merchants m ON m.id = r.merchant_id ORDER BY e.ref",
    "SELECT name, mcc FROM merchants ORDER BY name",
    "SELECT t.name, p.name FROM teams t LEFT JOIN teams p ON p.id = t.parent_id ORDER BY t.name",
    "SELECT code, name FROM categories ORDER BY code",
    "SELECT slug, name, currency, country, dimensions FROM companies",
)


async def _answers(url: str) -> list[dict[str, Any]]:
    """What the tools say about the year: totals by every grouping, and the first page of a search."""
    period = {"date_from": "2018-12-01", "date_to": "2020-01-31"}
    answers = []
    async with connect(build(url, "birmingham"), "auto") as client:
        for group_by in ("team", "category", "merchant", "month", "cost_center", "dim:statement_month"):
            answers.append(await call_ok(client, "summarize_spend", {"group_by": group_by, **period}))
        answers.append(await call_ok(client, "search_expenses", {"limit": 100, **period}))
    return answers


async def test_a_folder_dry_run_counts_what_it_would_write_and_writes_nothing(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    folder = copy_valid(tmp_path / "acme")

    would = await import_company(create_session_factory(engine), folder, dry_run=True)

    assert (would.dry_run, would.expenses, would.teams, would.employees, len(would.preview)) == (
        True, 20, 3, 6, 10
    )  # fmt: skip
    assert await raw(database_url, "SELECT count(*) FROM companies") == [(0,)]
