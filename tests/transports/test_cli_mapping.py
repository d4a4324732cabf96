"""`outlay import --mapping` as a person runs it: a dry run shows the first rows and writes nothing,
problems are one line each, an append says what it added and what was there already."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.importer import ledgers
from tests.transports.conftest import server_env
from tests.transports.test_cli import run_outlay
from tests.world import raw

STATEMENT = Path(__file__).parents[1] / "importer" / "fixtures" / "statement" / "statement.csv"
CARD_STATEMENT = str(ledgers.MAPPINGS / "card-statement.yaml")


@pytest.mark.anyio
async def test_a_dry_run_shows_the_first_rows_as_stored_and_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    header, records = ledgers.rows(ledgers.CALDERDALE)
    export = ledgers.write(tmp_path / "calderdale.csv.gz", header, records[:50])
    mapping = str(ledgers.MAPPINGS / "calderdale.yaml")

    result = run_outlay(
        "import", "--mapping", mapping, str(export), "--dry-run", env=server_env(database_url)
    )

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert lines[0].startswith("Dry run, nothing was written: would import company 'calderdale': ")
    assert lines[1] == "The first 10 expense(s) as they would be stored:"
    assert lines[2] == (
        '  CAL-42636; 2014-07-16; amount 4.95 GBP; team "Children and Young People-Children and Young '
        "People's Serv - Central Depts.\"; employee (none); descriptor '99P STORES'; merchant '99P STORES'; "
        "category CATERING-CLOTHING-AND-UNIFORMS; status approved; merchant_category 'Grocery Stores'; "
        "merchant_group 'General Retail And Wholesale'"
    )
    assert len(lines) == 12
    assert await raw(database_url, "SELECT count(*) FROM companies") == [(0,)]


def test_problems_are_one_line_each_without_a_traceback(database_url: str, tmp_path: Path) -> None:
    export = Path(shutil.copy(STATEMENT, tmp_path / "statement.csv"))
    export.write_text(export.read_text().replace("03.03.2026;AWS", "2026-03-03;AWS"))

    result = run_outlay("import", "--mapping", CARD_STATEMENT, str(export), "--company", "example",
                        env=server_env(database_url))  # fmt: skip

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "statement.csv:3: Booking date: '2026-03-03' is not a date in the format '%d.%m.%Y'",
        f"outlay: import of {export} through {CARD_STATEMENT} failed with 1 problem(s); nothing was written",
    ]


def test_an_append_of_the_same_statement_says_nothing_was_new(database_url: str, tmp_path: Path) -> None:
    export = str(shutil.copy(STATEMENT, tmp_path / "statement.csv"))
    env = server_env(database_url)
    arguments = ("import", "--mapping", CARD_STATEMENT, export, "--company", "example")

    first = run_outlay(*arguments, env=env)
    again = run_outlay(*arguments, "--append", env=env)

    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    said = [line for line in again.stderr.splitlines() if not line.startswith("{")]
    assert said == [
        "Nothing new for company 'example': every expense of the file was there already; already there: 5 "
        "expense(s)"
    ]


def test_company_and_strict_go_with_a_mapping(tmp_path: Path) -> None:
    env = server_env(f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}")

    result = run_outlay("import", str(tmp_path), "--company", "acme", env=env)

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(
        "error: --company and --strict go with --mapping (a folder names its company in company.csv)"
    )
