"""Reading a CSV file of the import format: header checks, physical line numbers, typed cells.

Each data row is a `Row`; `Row.value(column, parse)` returns the parsed cell or None, and records a
problem (making the row not `ok`) when a required cell is empty or `parse` raises `ValueError`.
"""

from __future__ import annotations

import _csv
import codecs
import csv
import difflib
import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

from server.importer.problems import WHOLE, Problems

T = TypeVar("T")


@dataclass(frozen=True)
class Family:
    """Optional columns named by the file: `prefix` + a name of its own (dim_fund, dim_location), any
    number of them."""

    prefix: str
    max_name: int  # characters of the name after the prefix

    def name_of(self, column: str) -> str | None:
        return column.removeprefix(self.prefix) if column.startswith(self.prefix) else None

    def problem(self, name: str) -> str | None:
        """Why a member's name is not usable; None when it is."""
        if not name:
            return f"no name after {self.prefix!r}; name the column {self.pattern}"
        if len(name) > self.max_name:
            return f"the name after {self.prefix!r} is longer than {self.max_name} characters"
        return None

    @property
    def pattern(self) -> str:
        return f"{self.prefix}<name>"


@dataclass(frozen=True)
class Columns:
    """The header of one file: required columns must be present, optional ones may be left out, and
    any number of each family's members may be there."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    families: tuple[Family, ...] = ()
    # An export read through a mapping: the columns it does not name are ignored, whatever they are.
    others_ignored: bool = False

    @classmethod
    def of(cls, required: str, optional: str = "", *families: Family) -> Columns:
        """From space-separated column names."""
        return cls(tuple(required.split()), tuple(optional.split()), families)

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional

    def family_of(self, column: str) -> Family | None:
        return next((family for family in self.families if family.name_of(column) is not None), None)


class Row:
    __slots__ = ("_cells", "_index", "_problems", "file", "line", "ok")

    def __init__(self, file: str, line: int, cells: list[str], index: dict[str, int], problems: Problems):
        self.file, self.line, self.ok = file, line, True
        self._cells, self._index, self._problems = cells, index, problems

    def raw(self, column: str) -> str:
        """The stripped cell; '' when empty or when the column is not in the header."""
        position = self._index.get(column)
        return "" if position is None else self._cells[position]

    def cells(self) -> tuple[str, ...]:
        """Every cell of the row, stripped, in the file's order."""
        return tuple(self._cells)

    def problem(self, column: str, message: str) -> None:
        self.ok = False
        self._problems.add(self.file, self.line, column, message)

    def value(self, column: str, parse: Callable[[str], T], *, required: bool = False) -> T | None:
        raw = self.raw(column)
        if not raw:
            if required:
                self.problem(column, "required")
            return None
        try:
            return parse(raw)
        except ValueError as error:
            self.problem(column, str(error))
            return None


def read_csv(
    folder: Path,
    name: str,
    columns: Columns,
    problems: Problems,
    *,
    required: bool = True,
    delimiter: str = ",",
) -> CsvRows | None:
    """The data rows of `folder/name`, or None when the file cannot be used (the reason is recorded,
    except for a missing optional file). A name ending in `.gz` is read through gzip."""
    path = folder / name
    if not path.is_file():
        if required:
            problems.add(name, 0, WHOLE, "required file is missing")
        return None
    # Closed by CsvRows once read (or just below when the header is unusable).
    opened = gzip.open(path, "rb") if name.endswith(".gz") else path.open("rb")  # noqa: SIM115
    handle = cast(BinaryIO, opened)
    reader = csv.reader(_decoded(handle), strict=True, delimiter=delimiter)
    index = _read_header(name, reader, columns, problems)
    if index is None:
        handle.close()
        return None
    return CsvRows(name, handle, reader, index, problems)


class _NotUtf8(Exception):
    """A line that cannot be read as text: not UTF-8, or (a .gz file) not gzip data."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _decoded(handle: BinaryIO) -> Iterator[str]:
    """The file's lines as text, decoded one by one so that a bad byte is reported on its own line."""
    lines = enumerate(handle, start=1)
    while True:
        try:
            number, raw = next(lines)
        except StopIteration:
            return
        except (OSError, EOFError) as error:  # a .gz file that is not gzip, or cut short
            raise _NotUtf8(0, f"not readable as gzip ({error})") from None
        try:
            yield (raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw).decode("utf-8")
        except UnicodeDecodeError as error:
            reason = f"not UTF-8 text ({error.reason} at byte {error.start + 1} of the line)"
            raise _NotUtf8(number, reason) from None


def _read_header(
    name: str, reader: Iterator[list[str]], columns: Columns, problems: Problems
) -> dict[str, int] | None:
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        problems.add(name, 0, WHOLE, "file is empty; expected a header row")
        return None
    except _NotUtf8 as error:
        problems.add(name, error.line, WHOLE, str(error))
        return None
    except csv.Error as error:
        problems.add(name, 1, WHOLE, f"not readable as CSV ({error})")
        return None
    usable = True
    index: dict[str, int] = {}
    for position, column in enumerate(header):
        if column in index and (column in columns.known or not columns.others_ignored):
            problems.add(name, 1, column, "column appears twice")
            usable = False
        elif column not in columns.known and not columns.others_ignored:
            _check_unknown(name, column, columns, problems)
        index.setdefault(column, position)
    missing = "the mapping names it, the file has no such column" if columns.others_ignored else None
    for column in columns.required:
        if column not in index:
            problems.add(name, 1, column, missing or "required column is missing")
            usable = False
    return index if usable else None


def _check_unknown(name: str, column: str, columns: Columns, problems: Problems) -> None:
    """A column that is not one of the file's own: a family member with a usable name, or a problem."""
    family = columns.family_of(column)
    if family is None:
        problems.add(name, 1, column or WHOLE, _unknown_column(column, columns))
    elif (problem := family.problem(column.removeprefix(family.prefix))) is not None:
        problems.add(name, 1, column, problem)


def _unknown_column(column: str, columns: Columns) -> str:
    if not column:
        return "a column has no name"
    close = difflib.get_close_matches(column, columns.known, n=1)
    expected = [*columns.known, *(family.pattern for family in columns.families)]
    hint = f"did you mean {close[0]!r}?" if close else f"expected: {', '.join(expected)}"
    return f"unknown column {column!r}; {hint}"


class CsvRows:
    """The data rows of one file, read once. `complete` turns False when reading stops at a line that
    is not UTF-8 or not CSV: the rows before it are then not the whole file, so the file's keys cannot
    be trusted for reference checks."""

    def __init__(
        self, name: str, handle: BinaryIO, reader: _csv.Reader, index: dict[str, int], problems: Problems
    ) -> None:
        self.name, self.complete = name, True
        self._handle, self._reader, self._index, self._problems = handle, reader, index, problems

    def members(self, family: Family) -> dict[str, str]:
        """The family's columns in this file's header by name, in name order (those with a usable name:
        the others are problems already)."""
        names = {family.name_of(column): column for column in self._index}
        return {
            name: names[name]
            for name in sorted(n for n in names if n is not None and family.problem(n) is None)
        }

    def __iter__(self) -> Iterator[Row]:
        name, reader, problems, width = self.name, self._reader, self._problems, len(self._index)
        with self._handle:
            while True:
                line = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except _NotUtf8 as error:
                    self._stop(error.line, str(error))
                    return
                except csv.Error as error:
                    self._stop(line, f"not readable as CSV ({error})")
                    return
                cells = [cell.strip() for cell in cells]
                if not any(cells):  # blank lines (and rows of empty cells) are ignored
                    continue
                if len(cells) != width:
                    problems.add(
                        name, line, WHOLE, f"expected {width} cells like the header, found {len(cells)}"
                    )
                    continue
                yield Row(name, line, cells, self._index, problems)

    def _stop(self, line: int, message: str) -> None:
        self.complete = False
        self._problems.add(self.name, line, WHOLE, message)
