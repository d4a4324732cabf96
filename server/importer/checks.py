"""Checks across rows and files: duplicated keys, unknown references, cycles in hierarchies."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Hashable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from server.importer.problems import Problems
from server.importer.rows import Row

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

# What each kind of reference points at, for "no team named 'X' in teams.csv".
REFERENCES = {
    "team": ("team named", "teams.csv"),
    "employee": ("employee", "employees.csv"),
    "category": ("category", "categories.csv"),
    "stored category": ("category", "the company's categories"),  # a file checked against the database
    "expense": ("expense", "expenses.csv"),
}
SUGGEST_AMONG_AT_MOST = 5000  # difflib over millions of expense ids would be slow and useless


@dataclass
class Parsed(Generic[T]):
    """A file's valid rows, and the line of every key that parsed (even on a row with other problems,
    so that one bad cell does not also turn every reference to that row into a problem)."""

    rows: list[T] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Known:
    """What the files read so far define, for reference checks; None when a file could not be read."""

    currency: str | None  # the company currency
    teams: Collection[str] | None
    employees: Collection[str] | None
    categories: Collection[str] | None


def first_use(row: Row, column: str, key: K, seen: MutableMapping[K, int], label: str) -> bool:
    """Record `key` as used on this row; False (and a problem) when an earlier row used it."""
    first = seen.setdefault(key, row.line)
    if first != row.line:
        row.problem(column, f"duplicate {label} (first on line {first})")
        return False
    return True


def unknown_reference(kind: str, value: str, known: Collection[str]) -> str:
    noun, file = REFERENCES[kind]
    message = f"no {noun} {value!r} in {file}"
    suggestion = _suggestion(kind, value, known)
    return f"{message}; did you mean {suggestion!r}?" if suggestion else message


def _suggestion(kind: str, value: str, known: Collection[str]) -> str | None:
    """A likely typo's intended key. E-mails of one company share their domain, so they are only
    suggested on the same local part or a near-identical spelling; expense ids are opaque."""
    if kind == "expense" or len(known) > SUGGEST_AMONG_AT_MOST:
        return None
    if kind == "employee":
        local = value.partition("@")[0]
        same_local = [email for email in known if email.partition("@")[0] == local]
        if len(same_local) == 1:
            return same_local[0]
        close = difflib.get_close_matches(value, known, n=1, cutoff=0.9)
    else:
        close = difflib.get_close_matches(value, known, n=1)
    return close[0] if close else None


def check_reference(
    row: Row, column: str, value: str | None, kind: str, known: Collection[str] | None
) -> None:
    """`known` is None when the referenced file could not be read: its problem is reported already."""
    if value is not None and known is not None and value not in known:
        row.problem(column, unknown_reference(kind, value, known))


def report_reference(
    problems: Problems,
    file: str,
    line: int,
    column: str,
    value: str | None,
    kind: str,
    known: Collection[str] | None,
) -> None:
    if value is not None and known is not None and value not in known:
        problems.add(file, line, column, unknown_reference(kind, value, known))


def find_cycles(parents: Mapping[K, K]) -> list[list[K]]:
    """Every cycle of a child -> parent map, once each, starting at its member that comes first in
    `parents` (file order). Self-references are cycles of one."""
    order = {node: position for position, node in enumerate(parents)}
    walked: dict[K, int] = {}
    cycles: list[list[K]] = []
    for walk, start in enumerate(parents):
        path: list[K] = []
        node: K | None = start
        while node is not None and node in parents and node not in walked:
            walked[node] = walk
            path.append(node)
            node = parents[node]
        if node is not None and walked.get(node) == walk:
            cycle = path[path.index(node) :]
            first = min(range(len(cycle)), key=lambda index: order[cycle[index]])
            cycles.append(cycle[first:] + cycle[:first])
    return cycles


def describe_cycle(members: Iterable[str]) -> str:
    names = list(members)
    return " -> ".join([*names, names[0]])
