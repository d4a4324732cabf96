"""A server whose tool calls could not switch to the tool-call role refuses to start, saying why, rather
than failing every call."""

from __future__ import annotations

import pytest

from server.runtime import Runtime, SchemaNotReady
from server.settings import Settings

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("backend", ["postgresql"])]


async def test_a_missing_tool_call_role_stops_the_server_at_start(database_url: str) -> None:
    settings = Settings(database_url=database_url, tenant_role="outlay_no_such_role")
    with pytest.raises(SchemaNotReady, match=r"role 'outlay_no_such_role' .* does not exist"):
        async with Runtime(settings, local_company=None).open():
            pass


async def test_the_migrated_role_lets_the_server_start(database_url: str) -> None:
    async with Runtime(Settings(database_url=database_url), local_company=None).open() as app:
        assert app.settings.tenant_role == "outlay_tenant"
