"""A generated demo folder, parsed for the tests, and the small company most tests share."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from server.demo import DemoSummary, write_demo_company
from server.demo.review_cases import ANSWERS, read_key

TODAY = dt.date(2026, 5, 14)
Rows = list[dict[str, str]]


def read(folder: Path, name: str) -> Rows:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class Company:
    """A generated folder, its files parsed once."""

    def __init__(self, folder: Path, summary: DemoSummary) -> None:
        self.folder = folder
        self.summary = summary
        self.teams = read(folder, "teams.csv")
        self.employees = read(folder, "employees.csv")
        self.categories = read(folder, "categories.csv")
        self.expenses = read(folder, "expenses.csv")
        self.budgets = read(folder, "budgets.csv")
        self.history = read(folder, "approval_history.csv")
        self.policy: dict[str, Any] = json.loads(
            (folder / "approval_policy.json").read_text(encoding="utf-8")
        )
        self.people = {e["email"]: e for e in self.employees}
        self.review_key = read_key(folder / ANSWERS) if (folder / ANSWERS).is_file() else []
        self.team_by_name = {t["name"]: t for t in self.teams}

    def requests(self) -> dict[str, Rows]:
        grouped: dict[str, Rows] = defaultdict(list)
        for row in self.history:
            grouped[row["request_id"]].append(row)
        return grouped


def generate(folder: Path, **arguments: Any) -> Company:
    """A small company (40 people, 6 months) unless told otherwise."""
    summary = write_demo_company(folder, today=TODAY, **{"employees": 40, "months": 6, **arguments})
    return Company(folder, summary)
