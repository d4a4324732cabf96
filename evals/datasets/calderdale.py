"""Calderdale Council's purchasing cards, 2014-2022 (real data; shared/datasets/calderdale-gpc).

93,945 transactions labelled with the council's own ledger category (`Expense Type`, 56 values). As a
company: each `Expense Area` ("Directorate-Service") is a team under its directorate's team, with one
card holder; `Supplier Name` is the descriptor (no clean merchant name is given, so the importer derives
one); the card scheme's merchant category description becomes its ISO 18245 code by matching words
(`MCC_FOR` pins the descriptions the matcher gets wrong) and is kept, with its group, as the free
dimensions `merchant_category` and `merchant_group`; amounts are net, in GBP. `Expense Code` is left
out: it maps one to one onto the label. Transactions from `TEST_FROM` on are the test period.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import iso18245

from evals.datasets.ledgers import Ledger, LedgerRow, team_name

FILE = "calderdale-gpc/calderdale_gpc_2014_2022.csv.gz"
SLUG = "calderdale"
CURRENCY = "GBP"
TEST_FROM = "2020-11-01"
CENT = Decimal("0.01")
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


def load(datasets: Path) -> Ledger:
    rows: list[LedgerRow] = []
    dropped: Counter[str] = Counter()
    with gzip.open(datasets / FILE, "rt", encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            if not raw["Expense Type"] or not raw["Expense Area"]:
                dropped["no expense type or area"] += 1
                continue
            area = team_name(raw["Expense Area"])
            directorate = team_name(area.split("-", 1)[0])
            dims = [
                ("merchant_category", raw["Merchant Category"]),
                ("merchant_group", raw["Merchant Category Group"]),
            ]
            rows.append(
                LedgerRow(
                    ref=f"CAL-{raw['Transaction number']}",
                    date=raw["Transaction Date"],
                    descriptor=raw["Supplier Name"][:200] or "(blank)",
                    amount=str(Decimal(raw["Net Amount"]).quantize(CENT)),
                    teams=(directorate, area) if directorate != area else (area,),
                    label=raw["Expense Type"],
                    test=raw["Transaction Date"] >= TEST_FROM,
                    mcc=mcc_for(raw["Merchant Category"]),
                    dims=tuple((name, value[:200]) for name, value in dims if value),
                )
            )
    split = f"transactions before {TEST_FROM} train, from {TEST_FROM} test (about the last fifth)"
    return Ledger(SLUG, "Calderdale Council (purchasing cards)", CURRENCY, rows, split, dropped)
