"""Real card ledgers as import folders (docs/data-format.md), split in time for the categorizer eval.

A converter (calderdale.py, birmingham.py) reads a published ledger into `LedgerRow`s; `write_folder`
writes the company the way a new user would import it: every team of the ledger (with its parent
team), one card holder per team (card exports name no employee), the ledger's labels as categories,
the training period categorized by a person, the test period uncategorized (the backlog), and the test
period's true labels in `answer_key.csv`, which the import does not read.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import iso18245

ANSWER_KEY = "answer_key.csv"
EXPENSE_COLUMNS = [
    "id",
    "date",
    "employee_email",
    "team",
    "descriptor",
    "mcc",
    "amount",
    "currency",
    "status",
    "category_code",
    "category_source",
    "cost_center",
]


@dataclass(frozen=True, slots=True)
class LedgerRow:
    ref: str
    date: str  # ISO
    descriptor: str
    amount: str  # decimal text in the company currency, signed as published
    teams: tuple[str, ...]  # the charged team last, its parents before it
    label: str  # the ledger's own category
    test: bool  # in the test period: imported without its category
    cost_center: str | None = None
    mcc: str | None = None
    dims: tuple[tuple[str, str], ...] = ()  # free analytical fields: (name, value)


@dataclass(frozen=True)
class Ledger:
    slug: str
    name: str
    currency: str
    rows: list[LedgerRow]
    split: str  # how train and test were cut, in words
    dropped: Counter[str] = field(default_factory=Counter)  # rows left out, by reason


def code_for(label: str) -> str:
    """A category code from a ledger label: upper case, other characters as dashes."""
    return re.sub(r"[^A-Z0-9]+", "-", label.upper()).strip("-")[:64] or "UNLABELLED"


def known_mcc(text: str) -> str | None:
    """A 4-digit ISO 18245 code (spreadsheets drop leading zeros: `742` is `0742`), or None."""
    code = text.strip().zfill(4)
    try:
        return iso18245.get_mcc(code).mcc if code.isdigit() and len(code) == 4 else None
    except (iso18245.MCCNotFound, iso18245.InvalidMCC):
        return None


def team_name(text: str) -> str:
    """Spaces collapsed, at most 200 characters; an empty name becomes a team of its own."""
    return " ".join(text.split())[:200] or "(no team)"


def write_folder(ledger: Ledger, out: Path) -> dict[str, int]:
    """The import folder of `ledger` (and its answer key); counts of what was written."""
    out.mkdir(parents=True, exist_ok=True)
    teams = _teams(ledger.rows)
    holders = {team: f"cardholder-{i:04d}@{ledger.slug}.example" for i, team in enumerate(teams, 1)}
    codes = {label: code_for(label) for label in sorted({r.label for r in ledger.rows})}
    _write(out / "company.csv", ["slug", "name", "currency"], [[ledger.slug, ledger.name, ledger.currency]])
    _write(out / "teams.csv", ["name", "parent"], [[team, parent or ""] for team, parent in teams.items()])
    _write(
        out / "employees.csv",
        ["email", "name", "team", "role"],
        [[holders[t], f"Card holder {i}", t, "employee"] for i, t in enumerate(teams, 1)],
    )
    _write(out / "categories.csv", ["code", "name"], [[code, label] for label, code in codes.items()])
    _write(out / "budgets.csv", ["team", "period", "amount", "currency"], [])
    policy = {"rules": [{"name": "Manager signs everything", "when": {}, "steps": ["team_manager"]}]}
    (out / "approval_policy.json").write_text(json.dumps(policy, indent=2), encoding="utf-8")
    names = sorted({name for r in ledger.rows for name, _ in r.dims})
    header = EXPENSE_COLUMNS + [f"dim_{name}" for name in names]
    _write(
        out / "expenses.csv",
        header,
        [_expense(r, holders, codes, ledger.currency, names) for r in ledger.rows],
    )
    _write(
        out / ANSWER_KEY, ["id", "category_code"], [[r.ref, codes[r.label]] for r in ledger.rows if r.test]
    )
    test = sum(r.test for r in ledger.rows)
    return {"teams": len(teams), "categories": len(codes), "train": len(ledger.rows) - test, "test": test}


def _teams(rows: Sequence[LedgerRow]) -> dict[str, str | None]:
    """Every team with its parent, parents first."""
    found: dict[str, str | None] = {}
    for row in rows:
        parent = None
        for team in row.teams:
            found.setdefault(team, parent)
            parent = team
    return found


def _expense(
    row: LedgerRow, holders: dict[str, str], codes: dict[str, str], currency: str, dims: list[str]
) -> list[str]:
    team = row.teams[-1]
    values = dict(row.dims)
    return [
        row.ref,
        row.date,
        holders[team],
        team,
        row.descriptor,
        row.mcc or "",
        row.amount,
        currency,
        "approved",
        "" if row.test else codes[row.label],
        "" if row.test else "human",
        row.cost_center or "",
        *(values.get(name, "") for name in dims),
    ]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
