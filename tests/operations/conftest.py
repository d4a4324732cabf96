"""`outlay serve --transport http` processes with settings of a test's choosing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.transports.conftest import CURSOR_SECRET, TOKENS, server_env, start_http_server

Spawn = Callable[..., str]


def start_server(database_url: str, log: Path, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """A server with the test tokens and the shared cursor secret, plus `settings`."""
    keys = json.dumps({token: slug for slug, token in TOKENS.items()})
    env = server_env(database_url, OUTLAY_API_KEYS=keys, OUTLAY_CURSOR_SECRET=CURSOR_SECRET, **settings)
    return start_http_server(log, env)


@pytest.fixture(scope="module")
def spawn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spawn]:
    """Factory: a server on `database_url` with extra OUTLAY_* settings; all stopped at the end."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(database_url: str, **settings: str) -> str:
        process, url = start_server(database_url, tmp_path_factory.mktemp("ops") / "server.log", **settings)
        processes.append(process)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
