"""`outlay import --mapping`: one flat export mapped into a company, the shipped mappings on slices of the
real ledgers, and every problem as `file:line: column: problem` with nothing written."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.importer import ImportFailed, import_export
from server.importer.service import ImportReport
from tests.importer import edits, ledgers
from tests.world import build, call_error, connect, raw

pytestmark = pytest.mark.anyio

STATEMENT = Path(__file__).parent / "fixtures" / "statement" / "statement.csv"
CARD_STATEMENT = ledgers.MAPPINGS / "card-statement.yaml"


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    return Path(shutil.copy(STATEMENT, tmp_path / "statement.csv"))


async def _import(engine: AsyncEngine, export: Path, mapping: Path, **options: object) -> ImportReport:
    return await import_export(create_session_factory(engine), export, mapping, **options)  # type: ignore[arg-type]


async def test_a_card_statement_is_stored_in_the_import_formats_terms(
    engine: AsyncEngine, database_url: str, statement: Path
) -> None:
    report = await _import(engine, statement, CARD_STATEMENT, company="example")

    assert (report.company_slug, report.teams, report.employees, report.categories, report.expenses) == (
        "example", 3, 2, 2, 5
    )  # fmt: skip
    stored = await raw(
        database_url,
        "SELECT e.ref, e.spent_on, e.amount_minor, e.currency, e.amount_company_minor, p.email, t.name, "
        "c.code, e.category_source, e.cost_center, e.status FROM expenses e "
        "LEFT JOIN employees p ON p.id = e.employee_id JOIN teams t ON t.id = e.team_id "
        "LEFT JOIN categories c ON c.id = e.category_id ORDER BY e.ref",
    )
    assert [(r[0], str(r[1]), *r[2:]) for r in stored] == [
        ("STM-R-1", "2026-03-02", 2340, "EUR", 2340, "rita.rep@example.test", "Sales", "TRAVEL", "human",
         "CC-1", "approved"),
        ("STM-R-2", "2026-03-03", 132044, "EUR", 132044, None, "Engineering", "SOFTWARE", "human", None,
         "approved"),
        ("STM-R-3", "2026-03-04", 10000, "USD", 9150, "rita.rep@example.test", "Sales", "TRAVEL", "human",
         "CC-1", "approved"),
        ("STM-R-4", "2026-03-05", -1299, "EUR", -1299, None, "Unassigned", None, None, None, "approved"),
        ("STM-R-5", "2026-03-06", 24900, "EUR", 24900, "dev@example.test", "Engineering", "SOFTWARE", "human",
         None, "approved"),
    ]  # fmt: skip
    people = await raw(database_url, "SELECT email, name, role FROM employees ORDER BY email")
    assert people == [
        ("dev@example.test", "dev@example.test", "employee"),
        ("rita.rep@example.test", "Rita Rep", "employee"),
    ]
    places = await raw(
        database_url, "SELECT value FROM expense_dimensions WHERE name = 'location' ORDER BY value"
    )
    assert places == [("Berlin",), ("New York",)]
    assert await raw(database_url, "SELECT count(*) FROM approval_policies") == [(0,)]


async def test_approval_tools_say_that_no_policy_is_loaded(
    engine: AsyncEngine, database_url: str, statement: Path
) -> None:
    await _import(engine, statement, CARD_STATEMENT, company="example")

    async with connect(build(database_url, "example"), "auto") as client:
        refused = await call_error(
            client, "suggest_approver", {"requester": "rita.rep@example.test", "amount": "10"}
        )

    assert refused.endswith(
        "no approval policy is loaded for this company; import one (approval_policy.json)"
    )


async def test_a_mapping_problem_names_the_mapping_file_and_the_path(
    engine: AsyncEngine, database_url: str, statement: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "bank.yaml"
    mapping.write_text(
        CARD_STATEMENT.read_text()
        .replace("decimal_comma: true, debits: negative", "decimal_comma: true, debit: negative")
        .replace("currency: EUR", "currency: EURO")
        .replace('delimiter: ";"', 'delimiter: ";;"')
    )

    with pytest.raises(ImportFailed) as failed:
        await _import(engine, statement, mapping, company="example")

    assert [str(p) for p in failed.value.problems] == [
        "bank.yaml:0: delimiter: String should have at most 1 character",
        "bank.yaml:0: amount.debit: unknown key; did you mean 'debits'?",
    ]
    assert await raw(database_url, "SELECT count(*) FROM companies") == [(0,)]


async def test_every_bad_row_is_reported_by_the_exports_line_and_column(
    engine: AsyncEngine, database_url: str, statement: Path
) -> None:
    for old, new in (
        ("03.03.2026;AWS", "31.02.2026;AWS"),
        ("-100,00;USD", "-100,00;JPY"),
        ("12,99;", "12,9x;"),
    ):
        edits.replace("statement.csv", old, new)(statement.parent)

    with pytest.raises(ImportFailed) as failed:
        await _import(engine, statement, CARD_STATEMENT, company="example")

    assert [str(p) for p in failed.value.problems] == [
        "statement.csv:0: Currency: 1 row(s) are in a currency other than EUR with no rate (JPY 1; the first "
        "on line 4); give their rates under fx.rates in the mapping, give the settled amount as "
        "amount_company, or set fx.without_rate: skip to leave them out",
        "statement.csv:3: Booking date: '31.02.2026' is not a date in the format '%d.%m.%Y'",
        "statement.csv:5: Amount: '-12.9x' is not an amount (digits with a decimal point, e.g. -1234.50)",
    ]
    assert await raw(database_url, "SELECT count(*) FROM companies") == [(0,)]


async def test_a_new_company_needs_a_slug_and_a_currency(
    engine: AsyncEngine, statement: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "bank.yaml"
    mapping.write_text(CARD_STATEMENT.read_text().replace("  currency: EUR\n", ""))

    with pytest.raises(ImportFailed) as failed:
        await _import(engine, statement, mapping)

    assert [str(p) for p in failed.value.problems] == [
        "bank.yaml:0: company.slug: required for a new company (or pass --company SLUG)",
        "bank.yaml:0: company.currency: required for a new company",
    ]


async def test_calderdale_imports_through_its_mapping(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    header, records = ledgers.rows(ledgers.CALDERDALE)
    sample = records[:2000]
    export = ledgers.write(tmp_path / "calderdale.csv.gz", header, sample)

    report = await _import(engine, export, ledgers.MAPPINGS / "calderdale.yaml")

    labels = {r["Expense Type"] for r in sample if r["Expense Type"]}
    areas = {" ".join(r["Expense Area"].split()) for r in sample}
    directorates = {a.split("-", 1)[0].strip() for a in areas} - areas
    assert (report.company_slug, report.expenses, report.employees) == ("calderdale", 2000, 0)
    assert (report.categories, report.teams) == (len(labels), len(areas | directorates))
    assert await raw(database_url, "SELECT count(*) FROM expenses WHERE employee_id IS NULL") == [(2000,)]
    parents = await raw(
        database_url,
        "SELECT p.name FROM teams t JOIN teams p ON p.id = t.parent_id WHERE t.name = :name",
        name="Economy and Environment-Housing Services",
    )
    assert parents == [("Economy and Environment",)]


async def test_birmingham_imports_through_its_mapping_leaving_out_rows_without_a_rate(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    header, records = ledgers.rows(ledgers.BIRMINGHAM)
    sterling = ledgers.pick(records, lambda r: r["currency"] in ("", "GBP"), 2000)
    sample = sterling + ledgers.pick(records, lambda r: r["currency"] not in ("", "GBP"), 5)
    export = ledgers.write(tmp_path / "birmingham.csv.gz", header, sample)

    report = await _import(engine, export, ledgers.MAPPINGS / "birmingham.yaml")

    assert len({tuple(r.values()) for r in sterling}) < len(sterling)  # identical rows are in the sample
    foreign = Counter(r["currency"] for r in sample[2000:])
    directorates = {" ".join(r["directorate"].split()).casefold() or "(no team)" for r in sample[:2000]}
    assert (report.expenses, report.skipped, report.teams) == (2000, dict(foreign), len(directorates))
    ids = await raw(database_url, "SELECT count(DISTINCT ref) FROM expenses WHERE ref LIKE 'BHM-%'")
    assert ids == [(2000,)]  # identical rows of one statement are two expenses, not one


async def test_labels_must_name_a_given_categories_file(
    engine: AsyncEngine, database_url: str, statement: Path, tmp_path: Path
) -> None:
    mapping = _mapping(tmp_path, "category: Category ", "category: {column: Category, file: categories.csv} ")
    _write(
        tmp_path / "categories.csv", "code,name,gl_account", "TRAVEL,Travel,6100", "SW,Software tools,6200"
    )

    with pytest.raises(ImportFailed) as failed:
        await _import(engine, statement, mapping, company="example")

    assert [str(p) for p in failed.value.problems] == [
        "statement.csv:3: Category: no category 'Software' in categories.csv (by code or by name)",
        "statement.csv:6: Category: no category 'Software' in categories.csv (by code or by name)",
    ]
    _write(tmp_path / "categories.csv", "code,name,gl_account", "TRAVEL,Travel,6100", "SW,Software,6200")
    await _import(engine, statement, mapping, company="example")
    assert await raw(database_url, "SELECT code, name, gl_account FROM categories ORDER BY code") == [
        ("SW", "Software", "6200"),
        ("TRAVEL", "Travel", "6100"),
    ]


async def test_a_column_the_mapping_names_must_be_in_the_file(engine: AsyncEngine, tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, "cost_center: Cost centre", "cost_center: Cost center")
    export = tmp_path / "statement.csv"
    shutil.copy(STATEMENT, export)

    with pytest.raises(ImportFailed) as failed:
        await _import(engine, export, mapping, company="example")

    assert [str(p) for p in failed.value.problems] == [
        "statement.csv:1: Cost center: the mapping names it, the file has no such column"
    ]


async def test_the_company_slug_is_checked(engine: AsyncEngine, statement: Path) -> None:
    with pytest.raises(ImportFailed) as failed:
        await _import(engine, statement, CARD_STATEMENT, company="Not A Slug")

    assert [str(p) for p in failed.value.problems] == [
        "--company:0: -: 'Not A Slug' is not a valid slug (2 to 64 of a-z, 0-9 and '-')"
    ]


def _mapping(folder: Path, old: str, new: str) -> Path:
    """The card-statement mapping with one edit, in `folder`."""
    text = CARD_STATEMENT.read_text()
    assert text.count(old) == 1
    path = folder / "bank.yaml"
    path.write_text(text.replace(old, new))
    return path


def _write(path: Path, *lines: str) -> None:
    path.write_text("\n".join(lines) + "\n")


async def test_mccs_are_zero_padded_and_unknown_ones_ignored_when_asked(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    mapping = _mapping(tmp_path, "cost_center: Cost centre", "mcc: {column: MCC, unknown: ignore}")
    export = tmp_path / "statement.csv"
    _write(
        export,
        "Reference;Booking date;Description;Amount;Currency;Department;MCC;Card holder e-mail;Card holder;"
        "Category;City",
        "R-1;02.03.2026;VET CLINIC;-50,00;EUR;Sales;742;;;;",
        "R-2;02.03.2026;SOMETHING;-5,00;EUR;Sales;0;;;;",
        "R-3;02.03.2026;TESCO STORES 2617;-7,50;EUR;Sales;5411;;;;",
    )

    await _import(engine, export, mapping, company="example")

    stored = await raw(database_url, "SELECT ref, mcc FROM expenses ORDER BY ref")
    assert stored == [("STM-R-1", "0742"), ("STM-R-2", None), ("STM-R-3", "5411")]


async def test_an_amount_whose_separators_contradict_the_decimal_mark_is_refused_not_guessed(
    engine: AsyncEngine, statement: Path, tmp_path: Path
) -> None:
    mapping = _mapping(tmp_path, "decimal_comma: true, ", "")

    with pytest.raises(ImportFailed) as failed:
        await _import(engine, statement, mapping, company="example")

    assert [str(p) for p in failed.value.problems][:2] == [
        "statement.csv:2: Amount: '-23,40' is not an amount written with a decimal point (1,234.50); is "
        "amount.decimal_comma: true?",
        "statement.csv:3: Amount: '-1.320,44' is not an amount written with a decimal point (1,234.50); is "
        "amount.decimal_comma: true?",
    ]
