"""Large imports on the queue, with real processes (PostgreSQL): `outlay import --queue` checks the folder
in the command and stages it; an `outlay worker` writes it in one transaction, the way the inline import
does; a worker killed in the middle leaves nothing written, and the retry imports once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.db.engine import create_engine
from server.demo import write_demo_company
from tests.importer.snapshot import snapshot
from tests.jobs.conftest import QUEUE_ENV, TODAY, kill, outlay, query, wait_for, workers

STAGED = ("jobs", "job_files")  # the queue's own rows: not what an import writes


@pytest.fixture(scope="session")
def large_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A company whose import takes seconds: long enough to kill a worker in the middle of it."""
    folder = tmp_path_factory.mktemp("jobs-large")
    write_demo_company(folder, seed=9, employees=150, months=24, today=TODAY, review_cases=False)
    return folder


def job_row(url: str, job_id: int) -> dict[str, Any]:
    columns = "kind, status, attempts, progress_done, progress_total, result, error"
    rows = query(url, f"SELECT {columns} FROM jobs WHERE id = :id", id=job_id)
    kind, status, attempts, done, total, result, error = rows[0]
    return {
        "kind": kind,
        "status": status,
        "attempts": attempts,
        "done": done,
        "total": total,
        "result": result,
        "error": error,
    }


def succeeded(url: str, job_id: int) -> dict[str, Any] | None:
    row = job_row(url, job_id)
    return row if row["status"] == "succeeded" else None


def written(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row an import writes, without the moments it wrote them (those differ run to run)."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_engine(url)
        try:
            tables = await snapshot(engine)
        finally:
            await engine.dispose()
        return {
            name: [tuple(v for v in row if not isinstance(v, dt.datetime)) for row in rows]
            for name, rows in tables.items()
            if name not in STAGED
        }

    return asyncio.run(read())


def count(url: str, table: str) -> int:
    return int(query(url, f"SELECT count(*) FROM {table}")[0][0])


def test_a_queued_import_writes_what_the_inline_import_writes(
    make_database: Callable[[str], str], company_folder: Path, tmp_path: Path
) -> None:
    inline, queued = make_database("postgresql"), make_database("postgresql")
    direct = outlay("import", str(company_folder), "--no-train", url=inline)
    assert direct.returncode == 0, direct.stderr
    with workers(queued, tmp_path) as running:
        running.start()
        asked = outlay("import", str(company_folder), "--no-train", "--queue", url=queued, **QUEUE_ENV)
        assert asked.returncode == 0, asked.stderr
        assert "queued its import as job 1" in asked.stderr
        done = wait_for(lambda: succeeded(queued, 1), seconds=60, what="the worker to import the folder")
    expenses = count(inline, "expenses")
    assert written(queued) == written(inline)
    assert done["result"]["expenses"] == done["done"] == done["total"] == expenses > 4000
    assert (done["result"]["company"], done["result"]["replaced"], done["attempts"]) == ("acme", False, 1)
    assert count(queued, "job_files") == 0  # the staged bytes go with the job's success
    listed = json.loads(outlay("jobs", "list", "--company", "acme", "--json", url=queued).stdout)
    assert [(j["kind"], j["status"], j["progress"]["done"]) for j in listed] == [
        ("import_company", "succeeded", expenses)
    ]


def test_a_malformed_folder_is_refused_in_the_command_and_nothing_is_queued(
    make_database: Callable[[str], str], company_folder: Path, tmp_path: Path
) -> None:
    url = make_database("postgresql")
    broken = tmp_path / "broken"
    shutil.copytree(company_folder, broken)
    lines = (broken / "expenses.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",approved,", ",approvedd,", 1)
    (broken / "expenses.csv").write_text("".join(lines), encoding="utf-8")
    refused = outlay("import", str(broken), "--queue", url=url, **QUEUE_ENV)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0].startswith("expenses.csv:4: status: ")
    assert refused.stderr.splitlines()[-1] == (
        f"outlay: import of {broken} failed with 1 problem(s); nothing was written"
    )
    tables = ("companies", "jobs", "job_files", "procrastinate_jobs")
    assert {table: count(url, table) for table in tables} == dict.fromkeys(tables, 0)


def test_a_worker_killed_mid_import_leaves_nothing_written_and_the_retry_imports_once(
    make_database: Callable[[str], str], large_folder: Path, tmp_path: Path
) -> None:
    url = make_database("postgresql")
    rows = len((large_folder / "expenses.csv").read_bytes().splitlines()) - 1
    with workers(url, tmp_path) as running:
        first = running.start()
        asked = outlay("import", str(large_folder), "--queue", url=url, **QUEUE_ENV)
        assert asked.returncode == 0, asked.stderr
        wait_for(lambda: job_row(url, 1)["done"], seconds=60, what="the import to write its first rows")
        kill(first)
        killed = job_row(url, 1)
        # The new company's row (made when queued, the job's owner) and the staged files; nothing else.
        assert (count(url, "companies"), count(url, "teams"), count(url, "expenses")) == (1, 0, 0)
        assert count(url, "job_files") > 0
        running.start()
        done = wait_for(lambda: succeeded(url, 1), seconds=120, what="the other worker to import it")
    assert (killed["status"], 0 < killed["done"] < rows) == ("running", True)
    assert (done["attempts"], done["result"]["expenses"], count(url, "expenses")) == (2, rows, rows)
    imports = query(url, "SELECT actor, details->>'replaced' FROM data_changes WHERE action = 'import'")
    assert imports == [("cli", "false")]
    assert count(url, "job_files") == 0
    training = query(url, "SELECT id, requested_by FROM jobs WHERE kind = 'train_categorizer'")
    assert training == [(done["result"]["then"], "job:1")]  # the first training, queued once


def test_a_queued_replace_keeps_its_own_job_through_the_companys_deletion(
    make_database: Callable[[str], str], company_folder: Path, tmp_path: Path
) -> None:
    url = make_database("postgresql")
    first = outlay("import", str(company_folder), "--no-train", url=url)
    assert first.returncode == 0, first.stderr
    with workers(url, tmp_path) as running:
        running.start()
        asked = outlay("import", str(company_folder), "--replace", "--queue", url=url, **QUEUE_ENV)
        assert asked.returncode == 0, asked.stderr
        done = wait_for(lambda: succeeded(url, 1), seconds=60, what="the worker to replace the company")
    assert (done["result"]["replaced"], done["result"]["expenses"]) == (True, count(url, "expenses"))
    assert query(url, "SELECT id FROM companies") == [(1,)]  # the same company, its id kept
    imports = query(url, "SELECT details->>'replaced' FROM data_changes WHERE action = 'import' ORDER BY id")
    assert imports == [("false",), ("true",)]
    assert count(url, "job_files") == 0
