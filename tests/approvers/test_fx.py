"""Exchange rates: exact conversion, the rate in force on a day, fx_rates.csv import, the migration."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from server.db.engine import create_engine, create_session_factory
from server.db.migrate import alembic_config, upgrade
from server.db.models import Company
from server.errors import InvalidArgument
from server.importer import import_company
from server.importer.dataset import read_folder
from server.importer.problems import Problems
from server.kit.fx import convert_minor, rates_on, to_company_currency
from tests.approvers.conftest import NORTHWIND


@pytest.mark.parametrize(
    ("amount_minor", "currency", "company", "rate", "expected"),
    [
        (546_448, "USD", "EUR", "0.9150", 500_000),  # 4,999.9992 EUR rounds to the 5,000.00 threshold
        (546_449, "USD", "EUR", "0.9150", 500_001),  # 5,000.00835 EUR is just over it
        (1, "USD", "EUR", "0.5", 0),  # half a cent: to the even neighbour, 0
        (3, "USD", "EUR", "0.5", 2),  # one and a half cents: to the even neighbour, 2
        (1000, "JPY", "EUR", "0.0062", 620),  # 1,000 JPY (no minor unit) = 6.20 EUR
        (1000, "EUR", "JPY", "160.55", 1606),  # 10.00 EUR = 1,605.5 JPY, half to even
        (1000, "EUR", "BHD", "0.41", 4100),  # 10.00 EUR = 4.100 BHD (three decimals)
    ],
)
def test_conversion_is_exact_and_rounds_half_to_even(
    amount_minor: int, currency: str, company: str, rate: str, expected: int
) -> None:
    assert convert_minor(amount_minor, currency, company, Decimal(rate)) == expected


@pytest.fixture
def northwind_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(NORTHWIND, tmp_path / "northwind"))


def _problems(folder: Path, fx_rates: str) -> list[str]:
    (folder / "fx_rates.csv").write_text(fx_rates, encoding="utf-8")
    problems = Problems()
    read_folder(folder, problems)
    return [str(problem) for problem in problems]


def test_bad_rates_are_reported_on_their_lines(northwind_copy: Path) -> None:
    rows = [
        "currency,rate,valid_from",
        "USD,0.9150,2026-01-01",
        "USD,0.9200,2026-01-01",
        "EUR,1,",
        "CHF,-1.02,",
        "GBP,0,",
        "XYZ,1.2,",
        "SEK,0.087,2026-02-30",
    ]
    assert _problems(northwind_copy, "\n".join(rows) + "\n") == [
        "fx_rates.csv:3: valid_from: duplicate rate for USD from 2026-01-01 (first on line 2)",
        "fx_rates.csv:4: currency: EUR is the company currency; it needs no rate",
        "fx_rates.csv:5: rate: '-1.02' is not a positive rate (a decimal number such as 1.1650, at most 12"
        " decimals)",
        "fx_rates.csv:6: rate: '0' is not a positive rate (a decimal number such as 1.1650, at most 12"
        " decimals)",
        "fx_rates.csv:7: currency: unknown ISO 4217 currency code 'XYZ'",
        "fx_rates.csv:8: valid_from: '2026-02-30' is not a date (YYYY-MM-DD)",
    ]


def test_fx_rates_csv_is_optional(northwind_copy: Path) -> None:
    (northwind_copy / "fx_rates.csv").unlink()
    problems = Problems()

    reading = read_folder(northwind_copy, problems)

    assert not problems
    assert reading.dataset is not None
    assert reading.dataset.fx_rates == []


def test_a_bad_header_is_reported(northwind_copy: Path) -> None:
    assert _problems(northwind_copy, "currency,rates\nUSD,0.9\n") == [
        "fx_rates.csv:1: rates: unknown column 'rates'; did you mean 'rate'?",
        "fx_rates.csv:1: rate: required column is missing",
    ]


@pytest.mark.anyio
async def test_imported_rates_apply_from_their_valid_from(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        sessions = create_session_factory(engine)
        report = await import_company(sessions, NORTHWIND)
        async with sessions() as session:
            company = await session.scalar(select(Company.id))
            assert company is not None
            on = {
                day: await rates_on(session, company, dt.date.fromisoformat(day))
                for day in ("2024-12-31", "2025-06-01", "2026-07-20")
            }
            converted = await to_company_currency(
                session, company, "EUR", 10_000, "USD", dt.date(2026, 7, 20)
            )
            with pytest.raises(InvalidArgument) as refused:
                await to_company_currency(session, company, "EUR", 10_000, "CHF", dt.date(2026, 7, 20))
    finally:
        await engine.dispose()

    assert report.fx_rates == 3
    assert on == {
        "2024-12-31": {"GBP": Decimal("1.1650")},
        "2025-06-01": {"GBP": Decimal("1.1650"), "USD": Decimal("0.9000")},
        "2026-07-20": {"GBP": Decimal("1.1650"), "USD": Decimal("0.9150")},
    }
    assert (converted.amount_minor, converted.rate) == (9150, Decimal("0.9150"))
    assert str(refused.value) == (
        "no exchange rate from CHF to EUR in force on 2026-07-20; give the amount in EUR or in a currency "
        "with a rate (known: GBP, USD)"
    )


def test_the_fx_migration_goes_down_and_up_again(database_url: str) -> None:
    """`database_url` is migrated to head already (tests/conftest.py), on SQLite and on PostgreSQL."""
    command.downgrade(alembic_config(database_url), "0001")
    assert "fx_rates" not in _tables(database_url)
    upgrade(database_url)
    assert "fx_rates" in _tables(database_url)


def _tables(url: str) -> set[str]:
    async def names() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(names())
