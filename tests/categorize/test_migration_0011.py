"""Migration 0011 gives the corrections an index by (company, id), the categorizer's catch-up read, in
place of the (company, merchant key) one nothing reads; its downgrade puts the old one back."""

from __future__ import annotations

import pytest

from tests.world import migrate, schema

pytestmark = pytest.mark.anyio


async def indexes(url: str) -> dict[str, list[str | None]]:
    found = await schema(url, lambda inspector: inspector.get_indexes("category_corrections"))
    return {index["name"] or "": index["column_names"] for index in found}


async def test_corrections_are_indexed_by_company_and_id_and_back_on_downgrade(database_url: str) -> None:
    assert (await indexes(database_url))["ix_category_corrections_company_id"] == ["company_id", "id"]
    assert "ix_category_corrections_company_merchant" not in await indexes(database_url)

    await migrate(database_url, "0010", down=True)
    try:
        found = await indexes(database_url)
        assert found["ix_category_corrections_company_merchant"] == ["company_id", "merchant_key"]
        assert "ix_category_corrections_company_id" not in found
    finally:
        await migrate(database_url, "head")
