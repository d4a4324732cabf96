"""fx_rates.csv (optional): exchange rates into the company currency, for amounts given in another one."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from server.importer import fields
from server.importer.checks import first_use
from server.importer.problems import Problems
from server.importer.rows import Columns, read_csv

FILE = "fx_rates.csv"
FX_RATES = Columns.of("currency rate", "valid_from")
RATE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?")


@dataclass(frozen=True)
class FxRateRow:
    currency: str
    rate: Decimal  # units of company currency for one unit of `currency`
    valid_from: dt.date | None  # None: since always


def rate(raw: str) -> Decimal:
    value = Decimal(raw) if RATE.fullmatch(raw) else None
    if value is None or value == 0:
        raise ValueError(
            f"{raw!r} is not a positive rate (a decimal number such as 1.1650, at most 12 decimals)"
        )
    return value


def read_fx_rates(folder: Path, company_currency: str | None, problems: Problems) -> list[FxRateRow] | None:
    """An absent file is no rates; None when the file cannot be read whole."""
    rows = read_csv(folder, FILE, FX_RATES, problems, required=False)
    if rows is None:
        return None if (folder / FILE).is_file() else []
    rates: list[FxRateRow] = []
    seen: dict[tuple[str, dt.date | None], int] = {}
    for row in rows:
        code = row.value("currency", fields.currency, required=True)
        value = row.value("rate", rate, required=True)
        valid_from = row.value("valid_from", fields.date)
        if code is not None and code == company_currency:
            row.problem("currency", f"{code} is the company currency; it needs no rate")
        if code is None or value is None or not row.ok:
            continue
        since = f"from {valid_from}" if valid_from else "without valid_from"
        if first_use(row, "valid_from", (code, valid_from), seen, f"rate for {code} {since}"):
            rates.append(FxRateRow(code, value, valid_from))
    return rates if rows.complete else None
