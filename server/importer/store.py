"""The parsed expenses of an import, kept on disk between checking and writing.

A file of millions of expenses, held as row objects until every check has passed, took gigabytes
(about 600 bytes a row). Each checked row is turned into a tuple of plain values (`Record`) and
pickled, a batch at a time, into an anonymous temporary file; the writer reads the batches back inside
the import's transaction. Memory is then one batch, whatever the size of the file, and the rows are
parsed and checked once (reading the CSV file again would parse every cell twice).
"""

from __future__ import annotations

import datetime as dt
import pickle
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import IO, Any

from server.db.models import CategorySource, ExpenseStatus, PaymentType

BATCH = 5000  # records per pickled batch: what the writer inserts per statement too
HEAD = 10  # the first rows kept as they are, for a dry run's preview
IN_MEMORY = 300_000  # expense ids held in a dict before they move to a temporary table (ExpenseIds):
# a real ledger of a few hundred thousand rows never pays for the table (Birmingham: 226k rows)

# An expense as plain values (no objects of ours: pickled and read back several times faster):
# ref, spent_on (ordinal), employee, team, descriptor, merchant, mcc, amount_minor, currency,
# amount_company_minor, memo, status, payment_type, category, category_source, receipt, cost_center,
# project, dimensions, line, card, receipt_id, country. Enums by value.
Record = tuple[Any, ...]
REF, MERCHANT, MCC, DIMENSIONS = 0, 5, 6, 18
CARD, RECEIPT_ID, COUNTRY = 20, 21, 22
_STATUS = {s.value: s for s in ExpenseStatus}
_PAYMENT = {p.value: p for p in PaymentType}
_SOURCE: dict[str | None, CategorySource | None] = {s.value: s for s in CategorySource} | {None: None}


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str
    amount_company_minor: int


@dataclass(frozen=True, slots=True)
class ExpenseRow:
    ref: str
    spent_on: dt.date
    employee: str | None  # None: the export names no one (then `team` is given)
    team: str | None  # None: the employee's team
    descriptor: str
    merchant: str
    mcc: str | None
    money: Money
    memo: str | None
    status: ExpenseStatus
    payment_type: PaymentType
    category: str | None
    category_source: CategorySource | None
    receipt: bool
    cost_center: str | None
    project: str | None
    dimensions: tuple[tuple[str, str], ...]  # (name, value) of the non-empty dim_<name> cells
    line: int = 0  # where the file has it (an append reports a conflicting row by it)
    card: str | None = None  # a masked card reference (what review_expenses reads, from here on)
    receipt_id: str | None = None  # the receipt's id in the expense tool
    country: str | None = None  # ISO 3166-1 alpha-2: where it was spent


def record(e: ExpenseRow) -> Record:
    m, source = e.money, e.category_source
    return (
        e.ref, e.spent_on.toordinal(), e.employee, e.team, e.descriptor, e.merchant, e.mcc, m.amount_minor,
        m.currency, m.amount_company_minor, e.memo, e.status.value, e.payment_type.value, e.category,
        source.value if source is not None else None, e.receipt, e.cost_center, e.project, e.dimensions,
        e.line, e.card, e.receipt_id, e.country,
    )  # fmt: skip


def expense(r: Record) -> ExpenseRow:
    """The row a record was made from."""
    return ExpenseRow(
        r[0], dt.date.fromordinal(r[1]), r[2], r[3], r[4], r[5], r[6], Money(r[7], r[8], r[9]), r[10],
        _STATUS[r[11]], _PAYMENT[r[12]], r[13], _SOURCE[r[14]], r[15], r[16], r[17], r[18], r[19], r[20],
        r[21], r[22],
    )  # fmt: skip


class ExpenseStore:
    """Expenses appended one by one, read back in batches (as records) or one by one (as rows), any
    number of times. `head` holds the first `HEAD` rows as they were appended."""

    def __init__(self, rows: Iterable[ExpenseRow] = ()) -> None:
        self._file: IO[bytes] | None = None
        self._pending: list[Record] = []
        self.count = 0
        self.dimension_cells = 0  # non-empty dim_<name> cells of all the rows
        self.head: list[ExpenseRow] = []
        for row in rows:
            self.append(row)

    def append(self, row: ExpenseRow) -> None:
        if len(self.head) < HEAD:
            self.head.append(row)
        self._pending.append(record(row))
        self.count += 1
        self.dimension_cells += len(row.dimensions)
        if len(self._pending) == BATCH:
            self._spill()

    def __len__(self) -> int:
        return self.count

    def batches(self) -> Iterator[list[Record]]:
        """The records in the order they were appended, `BATCH` at a time (the last batch fewer)."""
        if self._file is not None:
            self._file.seek(0)
            while True:
                try:
                    yield pickle.load(self._file)  # noqa: S301 (our own temporary file)
                except EOFError:
                    break
        if self._pending:
            yield list(self._pending)

    def __iter__(self) -> Iterator[ExpenseRow]:
        for batch in self.batches():
            yield from map(expense, batch)

    def close(self) -> None:
        """Drop the temporary file now (else when the store is garbage, or with the process)."""
        if self._file is not None:
            self._closer()
            self._file = None

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="outlay-import-")  # noqa: SIM115 (closed below)
            # A store dropped unclosed (an import that failed its checks) closes its file as it goes.
            self._closer = weakref.finalize(self, self._file.close)
        self._file.seek(0, 2)  # reading batches back moved the position
        pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._pending = []


class ExpenseIds(MutableMapping[str, int]):
    """Each expense id of the file and the line it is first on, for duplicate ids and references. Held
    in a dict up to `IN_MEMORY` ids at a time (about 160 bytes each), moved past that into a temporary
    SQLite table: memory stays bounded however many ids the file has."""

    def __init__(self) -> None:
        self._recent: dict[str, int] = {}
        self._table: sqlite3.Connection | None = None
        self._stored = 0

    def __getitem__(self, ref: str) -> int:
        line = self._recent.get(ref)
        if line is None and self._table is not None:
            found = self._table.execute("SELECT line FROM ids WHERE ref = ?", (ref,)).fetchone()
            line = None if found is None else found[0]
        if line is None:
            raise KeyError(ref)
        return line

    def __setitem__(self, ref: str, line: int) -> None:
        self._recent[ref] = line
        if len(self._recent) >= IN_MEMORY:
            self._move()

    def setdefault(self, ref: str, line: int) -> int:
        """The line `ref` is first on, recording `line` if it is new (once per row of a file: no
        KeyError raised and caught for each new id, as the mixin's would)."""
        first = self._recent.setdefault(ref, line)
        if first != line or self._table is None:
            if len(self._recent) >= IN_MEMORY:
                self._move()
            return first
        found = self._table.execute("SELECT line FROM ids WHERE ref = ?", (ref,)).fetchone()
        if found is not None:
            del self._recent[ref]
            return int(found[0])
        if len(self._recent) >= IN_MEMORY:
            self._move()
        return line

    def __delitem__(self, ref: str) -> None:
        raise TypeError("expense ids are only added")

    def __iter__(self) -> Iterator[str]:
        if self._table is not None:
            yield from (ref for (ref,) in self._table.execute("SELECT ref FROM ids"))
        yield from self._recent

    def __len__(self) -> int:
        return self._stored + len(self._recent)

    def clear(self) -> None:
        self._recent.clear()
        if self._table is not None:
            self._table.close()
            self._table, self._stored = None, 0

    def _move(self) -> None:
        if self._table is None:
            # "": a temporary database on disk, deleted on close; read and written by one thread at a
            # time, but not always the one that opened it (the checks run in a worker thread).
            self._table = sqlite3.connect("", check_same_thread=False)
            self._table.executescript(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16000;"
                "CREATE TABLE ids (ref TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;"
            )
        with self._table:
            self._table.executemany("INSERT INTO ids VALUES (?, ?)", self._recent.items())
        self._stored += len(self._recent)
        self._recent = {}
