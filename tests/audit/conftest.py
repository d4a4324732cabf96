"""A fresh two-company world per test: audit rows are counted from an empty table."""

from __future__ import annotations

import asyncio

import pytest

from tests.world import seed_world


@pytest.fixture
def world_url(database_url: str) -> str:
    asyncio.run(seed_world(database_url))
    return database_url
