"""The audit row of a call, on PostgreSQL, goes through `outlay_record_call` (migration 0025) as the
tool-call role: one statement, and still the trail is not the tool-call role's. The function writes a row
for the company the transaction entered and refuses any other, or none; the role itself may not insert,
read, change or delete a row of the trail directly; nobody else is granted the function."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from server.context import AppContext
from server.db.tenancy import enter_tenant
from server.runtime import Runtime
from server.settings import Settings
from tests.world import raw

# Roles and the definer function are PostgreSQL's: the shared two-company world on that backend only.
# Every test rolls its transaction back; the shared world's trail holds other tests' calls, so a test reads
# only the rows of its probe (call id PROBE).
pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("seeded_url", ["postgresql"], indirect=True)]

RECORD = text(
    "SELECT outlay_record_call(:at, 'probe', :company, 'tool', 'probe', :digest, 'ok', 1.0, NULL, :call_id)"
)
PROBE = "record-call-probe"
INSERT = text(
    "INSERT INTO audit_events (at, subject, company, kind, name, arguments_sha256, outcome, latency_ms)"
    " VALUES (:at, 'probe', :company, 'tool', 'probe', :digest, 'ok', 1.0)"
)


@pytest.fixture
async def app(seeded_url: str, anyio_backend: str) -> AsyncIterator[AppContext]:
    async with Runtime(Settings(database_url=seeded_url), local_company="acme").open() as app:
        yield app


@pytest.fixture
async def as_acme(app: AppContext, seeded_url: str) -> AsyncIterator[AsyncSession]:
    """A transaction as a tool call's: the tool-call role, acme entered; rolled back at the end."""
    [(acme,)] = await raw(seeded_url, "SELECT id FROM companies WHERE slug = 'acme'")
    async with app.sessions() as session:
        await session.begin()
        await enter_tenant(session, app.settings, int(acme))
        assert await session.scalar(text("SELECT current_user")) == app.settings.tenant_role
        yield session
        await session.rollback()


def row(company: str) -> dict[str, Any]:
    return {"at": dt.datetime.now(dt.UTC), "company": company, "digest": "0" * 64, "call_id": PROBE}


async def refused(session: AsyncSession, statement: Any, params: dict[str, Any]) -> str:
    """The SQLSTATE of a statement PostgreSQL refused, in a savepoint so the transaction goes on."""
    with pytest.raises(DBAPIError) as refusal:
        async with session.begin_nested():
            await session.execute(statement, params)
    return str(getattr(refusal.value.orig, "sqlstate", None))


async def test_the_function_writes_the_row_of_the_entered_company_as_the_tool_call_role(
    as_acme: AsyncSession,
) -> None:
    await as_acme.execute(RECORD, row("acme"))

    # Written (seen as the connecting role: the tool-call role may not read the trail), and a read
    # transaction no longer waits for the WAL flush.
    assert await as_acme.scalar(text("SELECT current_setting('synchronous_commit')")) == "off"
    await as_acme.execute(text("SET LOCAL ROLE NONE"))
    found = await as_acme.execute(
        text("SELECT company, subject, call_id FROM audit_events WHERE call_id = :call_id"),
        {"call_id": PROBE},
    )
    assert found.all() == [("acme", "probe", PROBE)]


async def test_the_function_refuses_a_row_for_another_company(as_acme: AsyncSession) -> None:
    assert await refused(as_acme, RECORD, row("globex")) == "42501"
    assert await refused(as_acme, RECORD, row("no-such-company")) == "42501"


async def test_the_function_refuses_a_row_when_no_company_was_entered(
    app: AppContext, seeded_url: str
) -> None:
    async with app.sessions() as session:
        await session.begin()
        await session.execute(text(f"SET LOCAL ROLE {app.settings.tenant_role}"))
        assert await refused(session, RECORD, row("acme")) == "42501"
        await session.rollback()
    assert await raw(seeded_url, f"SELECT count(*) FROM audit_events WHERE call_id = '{PROBE}'") == [(0,)]


async def test_the_tool_call_role_cannot_touch_the_trail_directly(as_acme: AsyncSession) -> None:
    assert await refused(as_acme, INSERT, row("acme")) == "42501"  # insufficient_privilege
    assert await refused(as_acme, text("SELECT count(*) FROM audit_events"), {}) == "42501"
    assert await refused(as_acme, text("UPDATE audit_events SET outcome = 'ok'"), {}) == "42501"
    assert await refused(as_acme, text("DELETE FROM audit_events"), {}) == "42501"


async def test_only_the_tool_call_role_and_the_owner_may_run_the_function(
    app: AppContext, seeded_url: str
) -> None:
    [(acl, definer)] = await raw(
        seeded_url, "SELECT proacl::text[], prosecdef FROM pg_proc WHERE proname = 'outlay_record_call'"
    )
    grantees = {entry.split("=")[0] for entry in acl}
    assert definer is True
    assert "" not in grantees  # PUBLIC's entry is "=X/owner"
    assert app.settings.tenant_role in grantees
