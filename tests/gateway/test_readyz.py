"""/readyz shows each model backend's circuit, and stays ready while the LLM is down."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from server.app import build_server
from server.fakes.anthropic import FakeAnthropic
from server.fakes.script import server_error
from server.http.serve import http_app
from server.runtime import Runtime
from server.settings import Settings
from tests.gateway.conftest import ask, fast_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def sqlite_url(make_database: Callable[[str], str]) -> str:
    return make_database("sqlite")  # the database only has to answer "SELECT 1"


async def test_an_open_llm_circuit_shows_but_does_not_fail_readiness(
    sqlite_url: str, llm_url: str, fake_llm: FakeAnthropic, anyio_backend: str
) -> None:
    gateway = fast_settings(base_url=llm_url, breaker_failures=1, max_attempts=1)
    settings = Settings(database_url=sqlite_url, gateway=gateway)
    runtime = Runtime(settings, local_company=None)
    app = http_app(build_server(settings, local_company=None, runtime=runtime), runtime)
    fake_llm.script.then(server_error())

    async with (
        runtime.open() as context,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client,
    ):
        with pytest.raises(Exception, match="server_error"):
            await ask(context.gateway)
        ready = await client.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "database": "ok",
        "models": {
            "llm": {"provider": "anthropic", "model": "claude-haiku-4-5", "circuit": "open"},
            "serving": {"circuit": "not_configured"},
        },
        "shared_state": {"backend": "memory", "status": "ok", "writes": "accepted"},
    }
