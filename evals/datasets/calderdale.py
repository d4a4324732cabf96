"""Real card transactions as an import folder: Calderdale Council's purchasing cards, 2014-2022.

    python -m evals.datasets.calderdale calderdale_gpc_2014_2022.csv.gz OUT
    outlay import OUT && outlay eval categorize --company calderdale

93,945 transactions labelled with the council's own ledger category (`Expense Type`, 56 values).
The folder follows docs/data-format.md: each `Expense Area` (directorate and service) is a team with one
card holder; `Supplier Name` is the descriptor (no clean merchant name is given, so the importer derives
one); the card scheme's merchant category description becomes its ISO 18245 code by matching words
(`MCC_FOR` pins the descriptions the matcher gets wrong); amounts are net, in GBP; every category was
set by a human. Nobody here generated any of it: it is the categorizer's test on data it was not tuned to.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import iso18245

SLUG = "calderdale"
CURRENCY = "GBP"
# Abbreviations of the card schemes' short descriptions, spelled out for matching.
_EXPAND = {
    "serv": "services",
    "svcs": "services",
    "def": "",
    "default": "",
    "misc": "miscellaneous",
    "mercht": "merchants",
    "orgs": "organizations",
    "equip": "equipment",
    "mgmt": "management",
    "consult": "consulting",
    "rec": "recreation",
    "sys": "systems",
    "govt": "government",
    "build": "building",
    "stn": "station",
    "dept": "department",
    "prof": "professional",
}
# Descriptions whose nearest ISO wording is the wrong code.
MCC_FOR = {
    "Lumber/Build. Supply Stores": "5211",
    "Gov't Serv - Default": "9399",
    "Restaurants": "5812",
    "Postage Stamps": "9402",
    "Automotive Parts Stores": "5533",
    "Stationery Stores": "5943",
    "Travel Agencies": "4722",
    "Amusement/Rec Serv - Def": "7999",
    "Misc Food Stores - Default": "5499",
    "Business Services - Default": "7399",
    "Schools - Default": "8299",
    "Phone Serv/Equip Utility": "4814",
    "Member Clubs/Sport/Rec/Golf": "7997",
    "Furniture/Equip Stores": "5712",
}
_WORDS = re.compile(r"[a-z]+")


def words(text: str) -> frozenset[str]:
    found = (_EXPAND.get(w, w) for w in _WORDS.findall(text.lower().replace("'", "")))
    return frozenset(
        w for w in found if w and w not in {"and", "or", "the", "of", "not", "elsewhere", "classified"}
    )


@cache
def _catalogue() -> list[tuple[frozenset[str], str]]:
    entries = []
    for mcc in iso18245.get_all_mccs():
        if "3000" <= mcc.mcc <= "3999":  # airline, car rental and hotel brands: never a generic description
            continue
        for text in (
            mcc.iso_description,
            mcc.visa_description,
            mcc.mastercard_description,
            mcc.usda_description,
        ):
            if text:
                entries.append((words(text), mcc.mcc))
    return entries


@cache
def mcc_for(description: str) -> str | None:
    """The ISO 18245 code of a scheme's short description, or None when nothing matches well."""
    if description in MCC_FOR:
        return MCC_FOR[description]
    wanted = words(description)
    if not wanted:
        return None
    score, code = max((len(wanted & have) / len(wanted | have), code) for have, code in _catalogue())
    return code if score >= 0.5 else None


def code_for(expense_type: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", expense_type.upper()).strip("-")[:64]


def convert(source: Path, out: Path) -> Counter[str]:
    with gzip.open(source, "rt", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Expense Type"] and r["Expense Area"]]
    out.mkdir(parents=True, exist_ok=True)
    teams = sorted({r["Expense Area"][:200] for r in rows})
    holders = {team: f"cardholder-{i:03d}@calderdale.example" for i, team in enumerate(teams, 1)}
    types = sorted({r["Expense Type"] for r in rows})
    _write(
        out / "company.csv",
        ["slug", "name", "currency"],
        [[SLUG, "Calderdale Council (purchasing cards)", CURRENCY]],
    )
    _write(out / "teams.csv", ["name"], [[t] for t in teams])
    _write(
        out / "employees.csv",
        ["email", "name", "team", "role"],
        [[holders[t], f"Card holder {i}", t, "employee"] for i, t in enumerate(teams, 1)],
    )
    _write(out / "categories.csv", ["code", "name"], [[code_for(t), t] for t in types])
    _write(out / "budgets.csv", ["team", "period", "amount", "currency"], [])
    policy = {"rules": [{"name": "Manager signs everything", "when": {}, "steps": ["team_manager"]}]}
    (out / "approval_policy.json").write_text(json.dumps(policy, indent=2))
    stats: Counter[str] = Counter()
    expenses = []
    for r in rows:
        mcc = mcc_for(r["Merchant Category"])
        stats["with_mcc" if mcc else "without_mcc"] += 1
        team = r["Expense Area"][:200]
        expenses.append(
            [
                f"CAL-{r['Transaction number']}",
                r["Transaction Date"],
                holders[team],
                team,
                r["Supplier Name"][:200],
                mcc or "",
                f"{float(r['Net Amount']):.2f}",
                CURRENCY,
                "approved",
                code_for(r["Expense Type"]),
                "human",
            ]
        )
    header = [
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
    ]
    _write(out / "expenses.csv", header, expenses)
    stats["expenses"] = len(expenses)
    return stats


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    print(dict(convert(Path(sys.argv[1]), Path(sys.argv[2]))))
