"""Migration 0023 makes every tenant policy read the caller's company once per statement (a sub-select,
planned as an InitPlan) instead of once per row; its downgrade puts the per-row form back. Which rows a
caller sees is unchanged either way (test_row_security.py runs at head)."""

from __future__ import annotations

import pytest

from tests.world import migrate, raw

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["postgresql"])]

POLICIES = "SELECT tablename, qual FROM pg_policies WHERE policyname = 'tenant_isolation' ORDER BY 1"


async def test_every_tenant_policy_reads_the_company_once_and_the_downgrade_restores_it(
    database_url: str,
) -> None:
    at_head = await raw(database_url, POLICIES)
    assert len(at_head) >= 20
    assert all(qual.count("( SELECT") == 2 for _, qual in at_head), at_head
    try:
        await migrate(database_url, "0022", down=True)
        below = await raw(database_url, POLICIES)
        assert [table for table, _ in below] == [table for table, _ in at_head]
        assert all("SELECT" not in qual for _, qual in below), below
    finally:
        await migrate(database_url, "head")
    assert await raw(database_url, POLICIES) == at_head
