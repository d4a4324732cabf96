"""What a failed import reports: one `Problem` per bad cell, row, header or file.

Numbering: line 1 is a CSV file's header and line N its N-th physical line (a quoted cell spanning
lines counts every line; a record is numbered by the line it starts on). Line 0 means the file as a
whole (missing, empty, not UTF-8, wrong number of company rows) and always goes with column `-`; `-`
on a data line means the whole row. `approval_policy.json` and `expense_policy.json` problems are always
on line 0, with the JSON path of the bad value (`rules[1].steps[0]`) as the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# The order problems are reported in (then by line, then in the order they were found).
FILES = (
    "company.csv",
    "teams.csv",
    "employees.csv",
    "categories.csv",
    "expenses.csv",
    "budgets.csv",
    "approval_policy.json",
    "expense_policy.json",
    "approval_history.csv",
    "fx_rates.csv",
)
WHOLE = "-"  # the column of a problem about a whole file or a whole row
# Problems kept, and listed; the others are only counted. A file of a million bad rows would otherwise
# hold (and print) a million of them: the first ten thousand found say what is wrong.
LISTED = 10_000


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


class ImportFailed(Exception):
    """The folder cannot be imported; nothing was written. `problems` lists every reason found, up to
    `LISTED` of them; `unlisted` counts the others, `count` them all."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=_order)
        self.unlisted = problems.unlisted if isinstance(problems, Problems) else 0
        self.count = len(self.problems) + self.unlisted
        super().__init__(f"{self.count} problem{'s' if self.count != 1 else ''}; nothing was imported")

    def __str__(self) -> str:
        return "\n".join([self.args[0], *map(str, self.problems), *self.more()])

    def more(self) -> list[str]:
        """What follows the listed problems: how many more there are, if any."""
        if not self.unlisted:
            return []
        listed = len(self.problems)
        return [f"... and {self.unlisted} more problem(s), not listed: the first {listed} found are"]


def _order(problem: Problem) -> tuple[int, int]:
    rank = FILES.index(problem.file) if problem.file in FILES else len(FILES)
    return rank, problem.line


class Problems:
    """Collects problems while the files are read. `ImportFailed` sorts them stably, so the problems
    of one line keep the order their columns were checked in."""

    def __init__(self) -> None:
        self._items: list[Problem] = []
        self.unlisted = 0  # problems found beyond the first LISTED

    def add(self, file: str, line: int, column: str, message: str) -> None:
        if len(self._items) < LISTED:
            self._items.append(Problem(file, line, column, message))
        else:
            self.unlisted += 1

    def __bool__(self) -> bool:
        return bool(self._items)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)
