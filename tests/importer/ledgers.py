"""Slices of the shared real ledgers (shared/datasets/), written as the exports a user would import."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

import pytest

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
CALDERDALE = DATASETS / "calderdale-gpc" / "calderdale_gpc_2014_2022.csv.gz"
BIRMINGHAM = DATASETS / "birmingham-pcard" / "birmingham_pcard_2017_2022.csv.gz"
MAPPINGS = Path(__file__).resolve().parents[2] / "server" / "importer" / "mappings"

Record = dict[str, str]


def rows(path: Path) -> tuple[list[str], list[Record]]:
    """The header and rows of a shared dataset; the test is skipped where the datasets are not."""
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def pick(records: Iterable[Record], keep: Callable[[Record], bool], limit: int) -> list[Record]:
    found = []
    for record in records:
        if keep(record):
            found.append(record)
            if len(found) == limit:
                break
    return found


def write(path: Path, header: list[str], records: Iterable[Record]) -> Path:
    """The records as a CSV export (gzip when the name ends in .gz), in the dataset's own shape."""
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            _write_csv(handle, header, records)
    else:
        with path.open("w", encoding="utf-8", newline="") as handle:
            _write_csv(handle, header, records)
    return path


def _write_csv(handle: TextIO, header: list[str], records: Iterable[Record]) -> None:
    writer = csv.DictWriter(handle, header)
    writer.writeheader()
    writer.writerows(records)
