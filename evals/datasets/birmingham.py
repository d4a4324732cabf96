"""Birmingham City Council's purchase cards, 2017-2022 (real data; shared/datasets/birmingham-pcard).

226,628 transactions labelled with the council's ledger expense type (159 labels). As a company:
each directorate is a team with one card holder (directorate names are compared without case, so that
`NEIGHBOURHOODS` and `Neighbourhoods` are one team); the cost-centre code is each expense's
`cost_center`; `merchant_name` (lower case, at most 25 characters) is the descriptor; the amount is
the gross amount in GBP; the MCC where published (two months). Rows in another currency carry no GBP
amount, so they are left out and counted. A blank merchant name (the 2020-01 file) stays visible as
`(blank)`.

The split is the dataset README's: statement months 2017-01..2020-12 train, 2021-01..2022-03 test.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from pathlib import Path

from evals.datasets.ledgers import Ledger, LedgerRow, known_mcc, team_name

FILE = "birmingham-pcard/birmingham_pcard_2017_2022.csv.gz"
TEST_FROM = "2021-01"  # the first statement month of the test period
CURRENCY = "GBP"


def load(datasets: Path) -> Ledger:
    rows: list[LedgerRow] = []
    dropped: Counter[str] = Counter()
    names: dict[str, str] = {}  # case-folded directorate -> its first spelling
    with gzip.open(datasets / FILE, "rt", encoding="utf-8", newline="") as handle:
        for number, raw in enumerate(csv.DictReader(handle), 1):
            if (raw["currency"] or CURRENCY) != CURRENCY:
                dropped["not in GBP (no GBP amount published)"] += 1
                continue
            directorate = team_name(raw["directorate"])
            team = names.setdefault(directorate.casefold(), directorate)
            rows.append(
                LedgerRow(
                    ref=f"BHM-{number:06d}",
                    date=raw["transaction_date"],
                    descriptor=raw["merchant_name"] or "(blank)",
                    amount=raw["gross_amount"],
                    teams=(team,),
                    label=raw["expense_category"],
                    test=raw["statement_month"] >= TEST_FROM,
                    cost_center=raw["cost_centre"][:64] or None,
                    mcc=known_mcc(raw["mcc"]) if raw["mcc"] else None,
                )
            )
    split = f"statement months before {TEST_FROM} train, from {TEST_FROM} test (the dataset's README)"
    return Ledger("birmingham", "Birmingham City Council (purchase cards)", CURRENCY, rows, split, dropped)
