"""The `outlay` command line as a person runs it."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from server import cli
from server.db.readiness import SchemaNotReady
from server.db.schema import check_schema
from tests.transports.conftest import OUTLAY, server_env, start_http_server


def run_outlay(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OUTLAY, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_serve_refuses_an_unmigrated_database_and_says_what_to_run(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    env = server_env(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")

    result = run_outlay("serve", "--transport", "stdio", env=env)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "has no Outlay schema. Run `outlay db upgrade` first." in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_import_and_audit_refuse_a_database_that_is_not_there_and_create_nothing(
    missing_database_url: str, backend: str, tmp_path: Path
) -> None:
    env = server_env(missing_database_url)
    name = make_url(missing_database_url).database
    expected = (
        f"outlay: The database file {name} does not exist. Run `outlay db upgrade` to create it "
        "(or set OUTLAY_DATABASE_URL to the database you meant)."
        if backend == "sqlite"
        else f'outlay: Cannot open the database {missing_database_url}: database "{name}" does not '
        "exist. Create it, then run `outlay db upgrade`."
    )

    results = [
        run_outlay("serve", "--transport", "stdio", env=env),
        run_outlay("import", str(VALID_FOLDER), env=env),
        run_outlay("audit", env=env),
    ]

    assert [(r.returncode, r.stdout, r.stderr.splitlines()) for r in results] == [(2, "", [expected])] * 3
    assert not (tmp_path / "absent").exists()  # SQLite: neither the file nor its folder


@pytest.mark.parametrize("backend", ["postgresql"])
def test_db_upgrade_of_a_postgresql_database_that_is_not_there_says_so_in_one_line(
    missing_database_url: str,
) -> None:
    name = make_url(missing_database_url).database

    result = run_outlay("db", "upgrade", env=server_env(missing_database_url))

    assert (result.returncode, result.stdout, result.stderr.splitlines()) == (
        1,
        "",
        [
            f'outlay: Cannot open the database {missing_database_url}: database "{name}" does not '
            "exist. Create it, then run `outlay db upgrade`."
        ],
    )


@pytest.mark.anyio
async def test_a_sqlite_file_is_looked_for_where_sqlite_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite expands no `~`: `sqlite:///~/outlay.db` is `./~/outlay.db`, whatever HOME holds."""
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "outlay.db").touch()
    (tmp_path / "~").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)

    with pytest.raises(SchemaNotReady) as refused:
        await check_schema("sqlite+aiosqlite:///~/outlay.db")
    assert str(refused.value) == (
        "The database file ~/outlay.db does not exist. Run `outlay db upgrade` to create it "
        "(or set OUTLAY_DATABASE_URL to the database you meant)."
    )
    assert not (tmp_path / "~" / "outlay.db").exists()


def test_demo_refuses_an_unmigrated_database_before_writing_anything(
    make_unmigrated_database: Callable[[str], str], backend: str, tmp_path: Path
) -> None:
    url = make_unmigrated_database(backend)
    env = server_env(url)
    folder = tmp_path / "demo"
    expected = f"outlay: The database {url} has no Outlay schema. Run `outlay db upgrade` first."

    results = [
        run_outlay("demo", "--employees", "12", "--months", "1", "--out", str(folder), env=env),
        run_outlay("demo", "--if-missing", "--out", str(folder), env=env),
    ]

    assert [(r.returncode, r.stderr.splitlines()) for r in results] == [(2, [expected])] * 2
    assert not folder.exists()


def test_audit_names_the_loaded_companies_when_asked_for_an_unknown_one(seeded_url: str) -> None:
    env = server_env(seeded_url)

    unknown = run_outlay("audit", "--company", "initech", env=env)
    quiet = run_outlay("audit", "--company", "globex", "--tool", "no_such_tool", env=env)

    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr.splitlines() == [
        "outlay: no company with slug 'initech' is loaded, and no audited call named it; "
        "the companies are: acme, globex"
    ]
    assert (quiet.returncode, len(quiet.stdout.splitlines())) == (0, 1)  # a loaded company: the header


def test_claude_config_prints_a_stdio_entry_for_this_checkout(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}"

    user = {"OUTLAY_USER": "ann@acme.example"}

    result = run_outlay("claude-config", env={**server_env(url), "OUTLAY_COMPANY": "acme", **user})

    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout)["mcpServers"]["outlay"]
    assert entry == {
        "command": OUTLAY,
        "args": ["serve", "--transport", "stdio"],
        "env": {"OUTLAY_DATABASE_URL": url, "OUTLAY_COMPANY": "acme", **user},
    }
    assert Path(entry["command"]).is_file()


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    env = server_env(f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}")

    first, second = run_outlay("db", "upgrade", env=env), run_outlay("db", "upgrade", env=env)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    url = f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}"
    assert (first.stderr, second.stderr) == (
        f"Created the database schema ({url}).\n",
        f"Database is up to date ({url}).\n",
    )


VALID_FOLDER = Path(__file__).parents[1] / "importer" / "fixtures" / "valid"


def test_import_reports_every_problem_as_file_line_and_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(VALID_FOLDER, folder)
    employees = (folder / "employees.csv").read_text().splitlines()
    employees[2] = employees[2].replace("50000.00", "50k")
    (folder / "employees.csv").write_text("\n".join(employees) + "\n")
    (folder / "budgets.csv").write_text("team,period,amount,currency\nNowhere,2026-Q5,12.345,EUR\n")
    env = server_env(database_url)

    result = run_outlay("import", str(folder), env=env)
    counted = run_outlay("import", str(VALID_FOLDER), env=env)

    assert result.returncode == 1
    assert result.stdout == ""
    problems = result.stderr.splitlines()[:-1]
    assert [line.split(": ", 2)[:2] for line in problems] == [
        ["employees.csv:3", "approval_limit"],
        ["budgets.csv:2", "team"],
        ["budgets.csv:2", "period"],
        ["budgets.csv:2", "amount"],
    ]
    assert result.stderr.splitlines()[-1] == (
        f"outlay: import of {folder} failed with 4 problem(s); nothing was written"
    )
    assert counted.returncode == 0, counted.stderr  # the failed import left no company behind
    assert "Imported company" in counted.stderr


def test_import_refuses_an_existing_company_unless_replace(database_url: str) -> None:
    env = server_env(database_url)

    first = run_outlay("import", str(VALID_FOLDER), env=env)
    again = run_outlay("import", str(VALID_FOLDER), env=env)
    replaced = run_outlay("import", str(VALID_FOLDER), "--replace", env=env)

    assert (first.returncode, again.returncode, replaced.returncode) == (0, 1, 0)
    assert "already exists; use --replace to replace it" in again.stderr


def test_demo_never_deletes_a_folder_that_is_not_a_demo_company(tmp_path: Path) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    env = server_env(f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}")

    run_outlay("db", "upgrade", env=env)
    result = run_outlay("demo", "--employees", "12", "--months", "1", "--out", str(precious), env=env)

    assert result.returncode == 2
    assert "is not empty and holds no demo company" in result.stderr
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_demo_writes_and_imports_a_small_company_then_serves_it(tmp_path: Path) -> None:
    env = server_env(f"sqlite+aiosqlite:///{tmp_path / 'outlay.db'}")
    folder = tmp_path / "demo"

    run_outlay("db", "upgrade", env=env)
    first = run_outlay("demo", "--employees", "12", "--months", "2", "--out", str(folder), env=env)
    again = run_outlay("demo", "--if-missing", "--out", str(folder), env=env)

    assert first.returncode == 0, first.stderr
    assert re.search(r"Imported company 'acme': \d+ teams, 12 employees, .* approval requests", first.stderr)
    # Text for a person: no Python repr of the summary (DemoSummary(..., datetime.date(...))).
    wrote = first.stderr[first.stderr.index("Wrote the demo company") :].splitlines()[:3]
    assert wrote[0] == f"Wrote the demo company 'acme' to {folder}:"
    assert wrote[2].startswith("  expenses from ")
    assert "DemoSummary" not in first.stderr
    # Progress on stderr, as plain lines (stderr is no terminal here); nothing on stdout.
    assert "demo: months written: 2/2 (100%)" in first.stderr
    assert re.search(r"^import: expenses written: [\d,]+/[\d,]+ \(100%\)", first.stderr, re.MULTILINE)
    assert first.stdout == ""
    assert "datetime" not in first.stderr
    assert (folder / "expenses.csv").is_file()
    assert again.returncode == 0
    assert "already loaded" in again.stderr


def test_http_serve_stopped_with_ctrl_c_exits_cleanly(seeded_url: str, tmp_path: Path) -> None:
    """`make run` is stopped with Ctrl-C: that is a normal end, not `make: *** Error 130`."""
    process, _ = start_http_server(tmp_path / "server.log", server_env(seeded_url))

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=30) == 0
    log = (tmp_path / "server.log").read_text()
    assert log.rstrip().endswith("Stopped."), log[-3000:]


def test_import_no_train_leaves_the_first_model_to_outlay_train(database_url: str) -> None:
    env = server_env(database_url)

    skipped = run_outlay("import", str(VALID_FOLDER), "--no-train", env=env)
    trained = run_outlay("import", str(VALID_FOLDER), "--replace", env=env)

    assert (skipped.returncode, trained.returncode) == (0, 0)
    assert "trained categorizer" not in skipped.stderr
    assert "acme: trained categorizer v1 on 13 expenses" in trained.stderr


def _helps(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[str, str]:
    """The help of `parser` and of every command under it, by command line."""
    helps = {" ".join(path): parser.format_help()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                helps |= _helps(command, (*path, name))
    return helps


def test_a_command_built_alone_parses_and_helps_as_among_all() -> None:
    every = _helps(cli._parser())

    for name in cli.COMMANDS:
        alone = _helps(cli._parser(name))
        assert {line: text for line, text in alone.items() if line} == {
            line: text for line, text in every.items() if line.split(" ")[0] == name
        }
    assert cli._parser("serve").parse_args(["serve", "--port", "9"]) == cli._parser().parse_args(
        ["serve", "--port", "9"]
    )
    assert {"serve", "model use", "jobs retry"} <= every.keys()
