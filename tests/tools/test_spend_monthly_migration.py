"""Migration 0006 backfills spend_monthly for the companies already imported, and goes down cleanly."""

from __future__ import annotations

import asyncio

from alembic import command

from server.db.migrate import alembic_config
from tests.tools.test_spend_monthly import rollup_drift
from tests.world import raw, seed_world


def test_the_migration_counts_what_was_imported_before_it(database_url: str) -> None:
    asyncio.run(seed_world(database_url))
    config = alembic_config(database_url)
    command.downgrade(config, "0005")
    command.upgrade(config, "head")

    assert asyncio.run(rollup_drift(database_url)) == set()
    [(companies,)] = asyncio.run(raw(database_url, "SELECT COUNT(DISTINCT company_id) FROM spend_monthly"))
    assert companies == 2
