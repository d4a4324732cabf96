"""Edits that turn a copy of the valid fixture folder into a broken one, one kind of error at a time."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

Edit = Callable[[Path], None]


def replace(file: str, old: str, new: str) -> Edit:
    """Replace text that occurs exactly once in `file` (so a case cannot silently edit the wrong line)."""

    def edit(folder: Path) -> None:
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    return edit


def replace_bytes(file: str, old: bytes, new: bytes) -> Edit:
    def edit(folder: Path) -> None:
        path = folder / file
        content = path.read_bytes()
        assert content.count(old) == 1, f"{old!r} occurs {content.count(old)} times in {file}"
        path.write_bytes(content.replace(old, new))

    return edit


def append(file: str, *lines: str) -> Edit:
    def edit(folder: Path) -> None:
        with (folder / file).open("a", encoding="utf-8") as handle:
            handle.writelines(f"{line}\n" for line in lines)

    return edit


def add_columns(file: str, cells: dict[str, dict[str, str]]) -> Edit:
    """Add columns to `file`: {column: {a record's first cell (its id): the value}}; the records not
    named get an empty cell. Records keep their lines (a quoted cell over two lines stays quoted)."""

    def edit(folder: Path) -> None:
        path = folder / file
        with path.open(newline="", encoding="utf-8") as handle:
            header, *records = list(csv.reader(handle))
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([*header, *cells])
            writer.writerows(
                [*record, *(by_id.get(record[0], "") for by_id in cells.values())] for record in records
            )

    return edit


def write(file: str, text: str) -> Edit:
    def edit(folder: Path) -> None:
        (folder / file).write_text(text, encoding="utf-8")

    return edit


def remove(file: str) -> Edit:
    def edit(folder: Path) -> None:
        (folder / file).unlink()

    return edit
