"""Who a call runs as: the company its token (or OUTLAY_COMPANY) names, found and entered before the
call's first query; without a name, the only company loaded, never one of several."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from server.calls import CallerUnknown, call_scope
from server.db.engine import create_engine, create_session_factory
from server.runtime import Runtime
from server.settings import Settings
from tests import factories as f
from tests.world import seed_world

pytestmark = pytest.mark.anyio


async def in_scope(url: str, company: str) -> tuple[str, str | None, str | None]:
    """(the caller's slug, the session's role, its company setting) inside a call as `company`."""
    runtime = Runtime(Settings(database_url=url), local_company=company)
    async with runtime.open() as app, call_scope(app, "tool", "probe") as scope:
        if scope.session.get_bind().dialect.name != "postgresql":
            return scope.caller.company_slug, None, None
        statement = text("SELECT current_user, current_setting('outlay.company_id')")
        role, setting = (await scope.session.execute(statement)).one()
        return scope.caller.company_slug, role, setting


async def test_a_named_company_is_found_and_entered(database_url: str, backend: str) -> None:
    await seed_world(database_url)
    globex = await _ids(database_url, "globex")

    slug, role, setting = await in_scope(database_url, "globex")

    assert slug == "globex"
    if backend == "postgresql":
        assert (role, setting) == ("outlay_tenant", str(globex))


async def test_without_a_name_the_only_company_is_found_and_entered(database_url: str, backend: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            only = await f.make_company(session, slug="solo")
            only_id = only.id
    finally:
        await engine.dispose()

    slug, role, setting = await in_scope(database_url, "")

    assert slug == "solo"
    if backend == "postgresql":
        assert (role, setting) == ("outlay_tenant", str(only_id))


async def test_without_a_name_one_of_several_companies_is_never_picked(database_url: str) -> None:
    await seed_world(database_url)
    with pytest.raises(CallerUnknown) as several:
        await in_scope(database_url, "")
    with pytest.raises(CallerUnknown) as unknown:
        await in_scope(database_url, "initech")

    assert str(several.value) == "Several companies are loaded: set OUTLAY_COMPANY to one of: acme, globex."
    assert str(unknown.value) == (
        "No company with slug 'initech' is loaded on this server; set OUTLAY_COMPANY to one of: acme, globex."
    )


async def _ids(url: str, slug: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(text("SELECT id FROM companies WHERE slug = :s"), {"s": slug})
    finally:
        await engine.dispose()
    return int(found)
