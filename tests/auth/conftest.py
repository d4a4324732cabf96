"""A fake OAuth issuer on loopback, and `outlay serve --transport http` processes that trust it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.fakes.loopback import serve_on_loopback
from tests.auth.issuer import FakeIssuer
from tests.transports.conftest import server_env, start_http_server


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeIssuer]:
    issuer = FakeIssuer()
    issuer.add_key("k1")
    with serve_on_loopback(issuer.app()) as url:
        issuer.url = url
        yield issuer


@pytest.fixture(scope="module")
def spawn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., tuple[str, Path]]]:
    """Factory: a server on `database_url` with exactly the OUTLAY_* settings given; returns its URL and
    log file. All are stopped at the end."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(database_url: str, **settings: str) -> tuple[str, Path]:
        log = tmp_path_factory.mktemp("auth") / "server.log"
        process, url = start_http_server(log, server_env(database_url, **settings))
        processes.append(process)
        return url, log

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
