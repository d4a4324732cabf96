"""Reading CSV files: physical line numbers, BOM, CRLF, blank lines, header checks."""

from __future__ import annotations

from pathlib import Path

from server.importer.problems import Problems
from server.importer.rows import Columns, read_csv

COLUMNS = Columns.of("code name", "note")


def read(tmp_path: Path, content: bytes) -> tuple[list[tuple[int, str, str]], list[str]]:
    (tmp_path / "things.csv").write_bytes(content)
    problems = Problems()
    rows = read_csv(tmp_path, "things.csv", COLUMNS, problems)
    found = [(row.line, row.raw("code"), row.raw("note")) for row in rows or ()]
    return found, [str(problem) for problem in problems]


def test_records_are_numbered_by_the_physical_line_they_start_on(tmp_path: Path) -> None:
    content = b'\xef\xbb\xbfcode,name,note\r\nA,Alpha,"two\r\nlines"\r\n\r\n, ,\r\nB,Beta, spaced \r\n'

    assert read(tmp_path, content) == ([(2, "A", "two\r\nlines"), (6, "B", "spaced")], [])


def test_optional_columns_may_be_left_out(tmp_path: Path) -> None:
    assert read(tmp_path, b"name,code\nAlpha,A\n") == ([(2, "A", "")], [])


def test_a_missing_required_column_makes_the_file_unusable(tmp_path: Path) -> None:
    (tmp_path / "things.csv").write_bytes(b"code,nam\nA,Alpha\n")
    problems = Problems()

    assert read_csv(tmp_path, "things.csv", COLUMNS, problems) is None
    assert [str(problem) for problem in problems] == [
        "things.csv:1: nam: unknown column 'nam'; did you mean 'name'?",
        "things.csv:1: name: required column is missing",
    ]


def test_reading_stops_at_a_line_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "things.csv").write_bytes(b"code,name\nA,Alpha\nB,B\xe9ta\nC,Gamma\n")
    problems = Problems()
    rows = read_csv(tmp_path, "things.csv", COLUMNS, problems)

    assert rows is not None
    assert [row.line for row in rows] == [2]
    assert not rows.complete  # its keys are not the whole file's: references to it are not checked
    assert [str(problem) for problem in problems] == [
        "things.csv:3: -: not UTF-8 text (invalid continuation byte at byte 4 of the line)"
    ]
