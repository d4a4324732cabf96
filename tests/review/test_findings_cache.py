"""The findings cache (docs/review.md#findings-cache) through MCP client sessions, on both backends: a
review's later pages come from it and equal a fresh review's; a write to the company's data between two
pages is seen; another company never gets one company's findings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from mcp.server import MCPServer
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from server.app import build_server
from server.context import AppContext
from server.db.engine import create_engine, create_session_factory
from server.db.models import Expense
from server.policies.service import load_policy
from server.settings import Settings
from tests.review.conftest import POLICY, seed_review
from tests.transports.conftest import TOKENS, http_client, server_env, start_http_server
from tests.world import CURSOR_SECRET, TODAY, call_ok, connect

pytestmark = pytest.mark.anyio
JULY: dict[str, Any] = {"period": "2026-07", "limit": 2}


def initech(url: str, *, cached: bool) -> MCPServer[AppContext]:
    """initech's server as tests/world.py's `build` makes it; without the cache every page is a fresh
    review."""
    settings = Settings(
        database_url=url,
        company="initech",
        today=TODAY,
        cursor_secret=SecretStr(CURSOR_SECRET),
        review_cache_entries=8 if cached else 0,
    )
    return build_server(settings, local_company="initech")


async def _pages(server: MCPServer[AppContext]) -> list[dict[str, Any]]:
    pages, arguments = [], dict(JULY)
    async with connect(server, "auto") as client:
        while True:
            pages.append(page := await call_ok(client, "review_expenses", arguments))
            if page["next_cursor"] is None:
                return pages
            arguments["cursor"] = page["next_cursor"]


async def test_later_pages_are_the_pages_of_a_fresh_review(
    servers: Callable[[str, str], MCPServer[AppContext]], review_url: str, anyio_backend: str
) -> None:
    cached = await _pages(servers(review_url, "initech"))
    assert len(cached) == 4
    assert cached == await _pages(initech(review_url, cached=False))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """tests/review/conftest.py's companies in a database of this test's own (it writes)."""
    await seed_review(database_url)
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def test_a_write_between_two_pages_is_seen(
    engine: AsyncEngine, database_url: str, tmp_path: Path, anyio_backend: str
) -> None:
    async with (
        connect(initech(database_url, cached=True), "auto") as client,
        connect(initech(database_url, cached=False), "auto") as uncached,
    ):
        first = await call_ok(client, "review_expenses", JULY)
        assert (first["total"], first["policy_version"]) == (7, 2)
        # A change no write path makes (a raw UPDATE that data_changes does not record): the next page
        # does not see it, so it came from the cache; a fresh review does.
        async with engine.begin() as connection:
            await connection.execute(
                update(Expense).where(Expense.ref == "EXP-I1").values(receipt_present=True)
            )
        second = await call_ok(client, "review_expenses", JULY | {"cursor": first["next_cursor"]})
        assert second["total"] == 7
        assert (await call_ok(uncached, "review_expenses", JULY))["total"] == 6
        # `outlay policy load` records its change: the next page is a new review's, under version 3.
        file = tmp_path / "expense_policy.json"
        rules = cast(list[dict[str, str]], POLICY["rules"])
        file.write_text(json.dumps({"rules": [rule for rule in rules if rule["id"] != "alcohol"]}))
        async with create_session_factory(engine)() as session, session.begin():
            await load_policy(session, "initech", file, actor="test")
        third = await call_ok(client, "review_expenses", JULY | {"cursor": second["next_cursor"]})
    assert (third["total"], third["policy_version"]) == (5, 3)
    assert "keywords" not in third["summary"]


@pytest.fixture
def http_url(review_url: str, tmp_path: Path) -> Iterator[str]:
    """One `outlay serve --transport http` for acme and globex, each by its token: one cache."""
    keys = json.dumps({token: slug for slug, token in TOKENS.items()})
    env = server_env(review_url, OUTLAY_API_KEYS=keys) | {"OUTLAY_TODAY": TODAY.isoformat()}
    process, url = start_http_server(tmp_path / "server.log", env)
    yield url
    process.terminate()
    process.wait(timeout=30)


async def test_another_company_never_gets_the_cached_findings(http_url: str, anyio_backend: str) -> None:
    # Neither company has a recorded change: the same arguments at the same data version.
    reviews = []
    for company in ("acme", "globex", "acme"):
        async with http_client(http_url, TOKENS[company]) as client:
            reviews.append(await call_ok(client, "review_expenses", {"period": "2026-07", "limit": 100}))
    acme, globex, acme_again = reviews
    assert acme_again == acme
    assert (globex["total"], globex["currency"]) == (1, "USD")
    assert [[e["id"] for e in f["expenses"]] for f in globex["findings"]] == [["EXP-D2", "EXP-D1"]]
    assert globex["findings"][0]["amount_at_stake"] == {"amount": "410.00", "currency": "USD"}
