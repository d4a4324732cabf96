"""The categorizer's part of the import format: category_rules.csv and the thresholds in company.csv."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import create_session_factory
from server.db.models import Category, CategoryRule, Company
from server.importer import ImportFailed, import_company
from tests.importer.edits import write
from tests.importer.snapshot import snapshot

pytestmark = pytest.mark.anyio

COMPANY = "slug,name,currency,categorize_review_threshold,categorize_auto_apply_threshold\n"


async def test_rules_are_stored_by_merchant_key_and_thresholds_with_the_company(
    folder: Path, engine: AsyncEngine
) -> None:
    write("category_rules.csv", "merchant,category_code\nUBER *TRIP HELP.UBER.COM,TRAVEL\nStaples,OFFICE\n")(
        folder
    )
    write("company.csv", COMPANY + "acme,Acme Robotics GmbH,EUR,0.7,0.9\n")(folder)

    report = await import_company(create_session_factory(engine), folder)

    assert report.counts["category_rules"] == 2
    async with engine.connect() as connection:
        rules = await connection.execute(
            select(CategoryRule.merchant, CategoryRule.merchant_key, Category.code)
            .join(Category, Category.id == CategoryRule.category_id)
            .order_by(CategoryRule.id)
        )
        thresholds = await connection.execute(
            select(Company.categorize_review_threshold, Company.categorize_auto_apply_threshold)
        )
        assert [tuple(r) for r in rules] == [
            ("UBER *TRIP HELP.UBER.COM", "UBER", "TRAVEL"),
            ("Staples", "STAPLES", "OFFICE"),
        ]
        assert [tuple(t) for t in thresholds] == [(0.7, 0.9)]


async def test_without_the_optional_columns_the_thresholds_are_the_defaults(
    folder: Path, engine: AsyncEngine
) -> None:
    await import_company(create_session_factory(engine), folder)

    async with engine.connect() as connection:
        found = await connection.execute(
            select(Company.categorize_review_threshold, Company.categorize_auto_apply_threshold)
        )
        assert [tuple(t) for t in found] == [(0.8, 0.95)]


@pytest.mark.parametrize(
    ("file", "text", "problems"),
    [
        (
            "category_rules.csv",
            "merchant,category_code\nUber,TRAVEL\nUBER *TRIP HELP.UBER.COM,MEALS\nStaples,OFICE\n,MEALS\n",
            [
                "category_rules.csv:3: merchant: duplicate rule: 'UBER *TRIP HELP.UBER.COM' is the same "
                "merchant as the rule (first on line 2)",
                "category_rules.csv:4: category_code: no category 'OFICE' in categories.csv; did you mean "
                "'OFFICE'?",
                "category_rules.csv:5: merchant: required",
            ],
        ),
        (
            "company.csv",
            COMPANY + "acme,Acme Robotics GmbH,EUR,1.5,0.9\n",
            [
                "company.csv:2: categorize_review_threshold: '1.5' is not a number above 0 and at most 1 "
                "(e.g. 0.95)"
            ],
        ),
        (
            "company.csv",
            COMPANY + "acme,Acme Robotics GmbH,EUR,0.9,0.85\n",
            ["company.csv:2: categorize_auto_apply_threshold: below categorize_review_threshold (0.9)"],
        ),
    ],
    ids=["rules", "threshold_range", "threshold_order"],
)
async def test_bad_rules_and_thresholds_are_reported_and_nothing_is_written(
    file: str, text: str, problems: list[str], folder: Path, globex_engine: AsyncEngine
) -> None:
    write(file, text)(folder)
    before = await snapshot(globex_engine)

    with pytest.raises(ImportFailed) as failed:
        await import_company(create_session_factory(globex_engine), folder)

    assert [str(problem) for problem in failed.value.problems] == problems
    assert await snapshot(globex_engine) == before
