"""Real transports: `outlay serve` spawned as a subprocess, as a deployment or Claude Desktop runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from server.fakes.loopback import free_port, wait_until_ready

OUTLAY = str(Path(sys.executable).with_name("outlay"))
TOKENS = {"acme": "acme-test-token", "globex": "globex-test-token"}
CURSOR_SECRET = "shared-by-every-replica"


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLAY_")}
    env.update(OUTLAY_DATABASE_URL=database_url, OUTLAY_TODAY="2026-06-30", OUTLAY_LOG_FORMAT="json", **extra)
    return env


def start_http_server(log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`outlay serve --transport http` on a free port with exactly `env`, its output in `log`; returns
    once it is ready (and leaves nothing running when it never gets there)."""
    port = free_port()
    with log.open("wb") as output:  # the child keeps its own handle
        process = subprocess.Popen(
            [OUTLAY, "serve", "--transport", "http", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=output,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process, seconds=30)
    except Exception:
        process.kill()
        process.wait(timeout=10)
        raise
    return process, url


def start_server(database_url: str, log: Path, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """A server with the test tokens and the shared cursor secret, plus `settings`."""
    keys = json.dumps({token: slug for slug, token in TOKENS.items()})
    env = server_env(database_url, OUTLAY_API_KEYS=keys, OUTLAY_CURSOR_SECRET=CURSOR_SECRET, **settings)
    return start_http_server(log, env)


@pytest.fixture(scope="module")
def spawn_http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """Factory: `start_server` with extra OUTLAY_* settings; every one is stopped at the end."""
    processes: list[subprocess.Popen[bytes]] = []

    def spawn(database_url: str, **settings: str) -> str:
        process, url = start_server(database_url, tmp_path_factory.mktemp("http") / "server.log", **settings)
        processes.append(process)
        return url

    yield spawn
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


@asynccontextmanager
async def http_client(base_url: str, token: str | None, mode: str = "auto") -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode=mode) as client,
    ):
        yield client
