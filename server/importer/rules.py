"""category_rules.csv (optional): the company's own merchant -> category rules for the categorizer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.importer import fields
from server.importer.checks import Known, check_reference, first_use
from server.importer.problems import Problems
from server.importer.rows import Columns, read_csv
from server.kit.merchants import merchant_key

FILE = "category_rules.csv"
RULES = Columns.of("merchant category_code")


@dataclass(frozen=True)
class CategoryRuleRow:
    merchant: str  # as the company wrote it
    merchant_key: str  # what it matches: every spelling of that merchant
    category: str


def read_category_rules(folder: Path, known: Known, problems: Problems) -> list[CategoryRuleRow] | None:
    """An absent file is no rules; None when the file cannot be read whole."""
    rows = read_csv(folder, FILE, RULES, problems, required=False)
    if rows is None:
        return None if (folder / FILE).is_file() else []
    rules: list[CategoryRuleRow] = []
    seen: dict[str, int] = {}
    for row in rows:
        merchant = row.value("merchant", fields.text(200), required=True)
        category = row.value("category_code", fields.text(64), required=True)
        check_reference(row, "category_code", category, "category", known.categories)
        if merchant is None or category is None or not row.ok:
            continue
        key = merchant_key(merchant)
        if first_use(row, "merchant", key, seen, f"rule: {merchant!r} is the same merchant as the rule"):
            rules.append(CategoryRuleRow(merchant, key, category))
    return rules if rows.complete else None
