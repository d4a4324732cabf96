"""server.kit.resolve directly: the rules every tool's name arguments follow, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.engine import create_engine, create_session_factory
from server.db.models import Company
from server.errors import Ambiguous, InvalidArgument, NotFound
from server.kit.resolve import resolve_category, resolve_employee, resolve_merchant, resolve_team

pytestmark = pytest.mark.anyio


@pytest.fixture
async def session(seeded_url: str, anyio_backend: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(seeded_url)
    try:
        async with create_session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def company_id(session: AsyncSession, slug: str) -> int:
    return (await session.scalars(select(Company.id).where(Company.slug == slug))).one()


async def test_exact_then_prefix_then_contains(session: AsyncSession) -> None:
    acme = await company_id(session, "acme")

    assert (await resolve_team(session, acme, " MARKETING ")).name == "Marketing"  # exact beats prefix
    assert (await resolve_team(session, acme, "eng")).name == "Engineering"  # prefix
    assert (await resolve_team(session, acme, "ops")).name == "Marketing Ops"  # contains
    assert (await resolve_employee(session, acme, "Dana")).email == "dana@acme.example"
    assert (await resolve_category(session, acme, "air travel")).code == "TRAVEL-AIR"
    assert (await resolve_category(session, acme, "travel")).code == "TRAVEL"  # exact code beats prefix
    assert (await resolve_merchant(session, acme, "pret")).name == "Pret A Manger"


async def test_ambiguous_unknown_and_blank(session: AsyncSession) -> None:
    acme = await company_id(session, "acme")

    with pytest.raises(
        Ambiguous, match=r"^'s' matches 2 merchants: Slack, Staples; pass one of them exactly$"
    ):
        await resolve_merchant(session, acme, "s")  # prefixes first...
    with pytest.raises(Ambiguous, match=r"^'an' matches 2 merchants: Lufthansa, Pret A Manger; "):
        await resolve_merchant(session, acme, "an")  # ...then anywhere in the name
    with pytest.raises(NotFound, match=r"^no merchant named 'Slak'; did you mean 'Slack'\?$"):
        await resolve_merchant(session, acme, "Slak")
    with pytest.raises(InvalidArgument, match="the team is empty"):
        await resolve_team(session, acme, "  ")


async def test_lookups_never_cross_companies(session: AsyncSession) -> None:
    acme, globex = await company_id(session, "acme"), await company_id(session, "globex")

    assert (await resolve_employee(session, globex, "Ann Lee")).email == "ann@globex.example"
    assert (await resolve_category(session, globex, "TRAVEL")).name == "Travel (Globex)"
    assert (await resolve_team(session, globex, "Marketing")).cost_center == "CC-G-101"
    with pytest.raises(NotFound, match="'Globex Supplies'"):
        await resolve_merchant(session, acme, "Globex Supplies")
    with pytest.raises(NotFound, match="the merchants are: Globex Supplies, Uber"):
        await resolve_merchant(session, globex, "Lufthansa")
