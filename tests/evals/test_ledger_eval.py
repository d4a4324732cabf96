"""`outlay eval categorize --dataset`: a ledger in the published format becomes an import folder split in
time, is imported and trained by `outlay` in child processes, answered over MCP, scored beside the
two baselines, and replayed with corrections. Here on a small ledger in Birmingham's format."""

from __future__ import annotations

import csv
import gzip
import random
from pathlib import Path

import pytest

from evals import categorize_ledgers as ledgers
from evals.datasets import birmingham
from evals.datasets.ledgers import ANSWER_KEY, write_folder
from server.cli import main

COLUMNS = [
    "transaction_date",
    "statement_month",
    "merchant_name",
    "gross_amount",
    "currency",
    "net_amount",
    "vat_amount",
    "directorate",
    "cost_centre",
    "expense_category",
    "mcc",
    "source_file",
]
# (merchant, the category it is booked as, the cost centre that books it)
SHOPS = [
    ("shell kings 587", "Vehicle Fuel", "RV12N"),
    ("tesco stores 2617", "Purchases Food", "REAYC"),
    ("amznmktplace", "Equip Operational", "RV12N"),
    ("amznmktplace", "Books", "LIB01"),
    ("royal mail", "Postage", "ADM01"),
    ("national express", "Travel Bus/Rail", "ADM01"),
]


def published_ledger(datasets: Path, rows: int = 600) -> Path:
    """A ledger in the shared dataset's format: 2020 trains, 2021 tests (by statement month)."""
    rng = random.Random(3)
    path = datasets / birmingham.FILE
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for n in range(rows):
            merchant, label, cost_centre = rng.choice(SHOPS)
            month = 1 + n * 24 // rows
            year, month = 2020 + (month - 1) // 12, (month - 1) % 12 + 1
            writer.writerow(
                {
                    "transaction_date": f"{year}-{month:02d}-{1 + n % 28:02d}",
                    "statement_month": f"{year}-{month:02d}",
                    "merchant_name": merchant,
                    "gross_amount": f"{rng.uniform(3, 300):.2f}",
                    "currency": "USD" if n % 97 == 0 else "GBP",
                    "directorate": rng.choice(["ADULT SOCIAL CARE", "Adult Social Care", "NEIGHBOURHOODS"]),
                    "cost_centre": cost_centre,
                    "expense_category": label,
                    "mcc": "742" if n == 5 else "",
                    "source_file": "x.xls",
                }
            )
    return path


def test_a_published_ledger_becomes_an_import_folder_split_in_time(tmp_path: Path) -> None:
    published_ledger(tmp_path)

    ledger = birmingham.load(tmp_path)
    written = write_folder(ledger, tmp_path / "folder")

    assert dict(ledger.dropped) == {"not in GBP (no GBP amount published)": 7}
    assert written["train"] + written["test"] == 593
    # Directorates are compared without case: the first spelling names the team.
    assert sorted(r.teams[0].upper() for r in {r.teams: r for r in ledger.rows}.values()) == [
        "ADULT SOCIAL CARE",
        "NEIGHBOURHOODS",
    ]
    assert next(r.mcc for r in ledger.rows if r.ref == "BHM-000006") == "0742"  # a leading zero lost
    with (tmp_path / "folder" / ANSWER_KEY).open() as handle:
        key = list(csv.DictReader(handle))
    assert len(key) == written["test"]
    assert all(r.test == (r.date >= "2021-01") for r in ledger.rows)


def test_the_ledger_eval_imports_answers_scores_and_replays(tmp_path: Path) -> None:
    published_ledger(tmp_path)

    report = ledgers.run_sync(ledgers.LedgerOptions("birmingham", tmp_path, tmp_path / "out"))

    outlay, baselines = report["outlay"], report["baselines"]
    assert report["split"]["test"] > 250
    # Amazon is booked by cost centre: the baseline by merchant cannot know that, Outlay can.
    assert outlay["top1"] > baselines["majority_per_merchant"]["top1"]
    assert outlay["top1"] > 0.9
    assert 0 <= outlay["ece"] <= 1
    assert report["cost"]["train_peak_rss_mb"] > 0
    replay = report["replay"]
    assert replay["accuracy_without"] == outlay["top1"]
    assert sum(month["expenses"] for month in replay["months"].values()) == report["split"]["test"]
    assert "Online replay" in ledgers.render(report)


def test_the_command_refuses_a_missing_datasets_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["eval", "categorize", "--dataset", "birmingham", "--datasets", str(tmp_path / "nowhere")])

    assert code == 2
    assert "no datasets folder at" in capsys.readouterr().err
