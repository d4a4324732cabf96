"""An import's memory does not grow with its rows: the checked expenses wait on disk, a batch at a time,
and the ids past the first 300,000 in a temporary table (server/importer/store.py).

Python's own allocations (tracemalloc) importing N and then 4N generated expenses, several store batches
each: the difference over the 3N more rows, per row. Held as row objects until written (before the
store), each row cost about 700 bytes. SQLite only: the backend does not change what the importer holds.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from server.db.engine import create_engine, create_session_factory
from server.importer import ImportFailed, ImportReport, import_company, store
from tests.importer.conftest import copy_valid
from tests.importer.edits import append

BATCH = 1000  # the store's 5,000 a batch made these imports under tracemalloc the suite's slowest
ROWS = 2 * BATCH + 123  # and 4 times as many: both span several batches, the last one partial
BYTES_PER_ROW = 300
E = "expenses.csv"
TAGGED_EVERY = 3  # rows with a dim_region cell: dimension rows are written batch by batch too


@pytest.fixture(autouse=True)
def smaller_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "BATCH", BATCH)


def _grown(folder: Path, rows: int) -> Path:
    """The valid folder with `rows` more expenses (each its own descriptor and memo, as in a ledger)."""
    expenses = folder / "expenses.csv"
    header, *lines = expenses.read_text().splitlines()
    lines = [f"{line}," for line in lines]
    for i in range(rows):
        region = "North" if i % TAGGED_EVERY == 0 else ""
        lines.append(
            f"G-{i:07d},2026-02-{1 + i % 28:02d},rep@acme.test,,TAXI {i:07d} LONDON,City Cabs,4121,"
            f"{i % 500 + 1}.25,EUR,,ride {i} to a client,approved,card,TRAVEL,,true,{region}"
        )
    expenses.write_text("\n".join([f"{header},dim_region", *lines]) + "\n")
    return folder


async def _traced(url: str, folder: Path, append: bool) -> tuple[ImportReport, int]:
    engine = create_engine(url)
    tracemalloc.start()
    try:
        report = await import_company(create_session_factory(engine), folder, append=append)
        return report, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await engine.dispose()


def _import(url: str, folder: Path, *, append: bool = False) -> tuple[ImportReport, int]:
    """The report, and the peak of Python's allocations during the import (bytes)."""
    return asyncio.run(_traced(url, folder, append))


def test_memory_grows_by_the_ids_not_the_rows(tmp_path: Path, make_database: Callable[[str], str]) -> None:
    _import(make_database("sqlite"), copy_valid(tmp_path / "warm"))  # caches filled once
    small, small_peak = _import(make_database("sqlite"), _grown(copy_valid(tmp_path / "n"), ROWS))
    large, large_peak = _import(make_database("sqlite"), _grown(copy_valid(tmp_path / "4n"), 4 * ROWS))
    assert large.expenses - small.expenses == 3 * ROWS
    tagged = len(range(0, 4 * ROWS, TAGGED_EVERY))
    assert large.expense_dimensions == tagged  # every batch's dimension rows found their expense
    per_row = (large_peak - small_peak) / (3 * ROWS)
    assert per_row < BYTES_PER_ROW, f"{per_row:.0f} bytes more per row ({small_peak=}, {large_peak=})"


def test_appending_a_file_the_company_has_holds_one_batch(
    tmp_path: Path, make_database: Callable[[str], str]
) -> None:
    """Appending again a statement the company has: every row is compared with the stored expense, a
    batch at a time (the stored facts of the whole file were held at once before)."""
    peaks = []
    for name, rows in (("n", ROWS), ("4n", 4 * ROWS)):
        url, folder = make_database("sqlite"), _grown(copy_valid(tmp_path / name), rows)
        _import(url, folder)
        again, peak = _import(url, folder, append=True)
        assert (again.expenses, again.expenses_there) == (0, rows + 20)
        peaks.append(peak)
    per_row = (peaks[1] - peaks[0]) / (3 * ROWS)
    assert per_row < BYTES_PER_ROW, f"{per_row:.0f} bytes more per row ({peaks=})"


def test_ids_past_those_held_in_memory_are_checked_alike(
    tmp_path: Path, make_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids moved to the temporary table (all but the last 2 here) still catch a duplicate and answer
    approval_history.csv's references."""
    monkeypatch.setattr(store, "IN_MEMORY", 2)
    url = make_database("sqlite")
    report, _ = _import(url, copy_valid(tmp_path / "ok"))
    assert (report.expenses, report.approval_requests) == (20, 3)

    duplicated = copy_valid(tmp_path / "duplicated", slug="globex")
    append(E, "E-003,2026-03-01,rep@acme.test,,TAXI,,,1.00,EUR,,,,,,,")(duplicated)
    with pytest.raises(ImportFailed) as failed:
        _import(url, duplicated)
    assert [str(problem) for problem in failed.value.problems] == [
        "expenses.csv:23: id: duplicate expense id 'E-003' (first on line 4)"
    ]
