"""Redis for shared-state tests: `OUTLAY_TEST_REDIS_URL` (default: the local server, database 0). Each
test gets a key prefix of its own, and its keys are deleted after it, so tests (and concurrent runs)
stay apart. When Redis is unreachable these tests are skipped, except under CI=true, where they fail."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from server.fakes.loopback import free_port, wait_until_ready
from server.settings import Settings
from tests.transports.conftest import CURSOR_SECRET, OUTLAY, TOKENS, server_env

REDIS_URL = os.environ.get("OUTLAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, decode_responses=True)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI and unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    return client


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of the test's own; its keys are gone afterwards."""
    client = redis_or_skip()
    prefix = f"outlay-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis_or_skip()
    yield client
    client.close()


def no_redis_url() -> str:
    """A Redis URL where nothing listens: Redis is down."""
    return f"redis://127.0.0.1:{free_port()}/0"


def settings(redis_url: str | None, prefix: str = "outlay", **values: Any) -> Settings:
    return Settings.model_validate(
        {"database_url": "sqlite+aiosqlite:///unused.db", "redis_url": redis_url, "redis_prefix": prefix}
        | values
    )


@pytest.fixture(scope="module")
def spawn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """`outlay serve --transport http` with the test tokens and `settings`, like the transports' fixture,
    but given 90 s to get ready: these tests start several replicas while others train on two cores."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(database_url: str, **extra: str) -> str:
        keys = json.dumps({token: slug for slug, token in TOKENS.items()})
        env = server_env(database_url, OUTLAY_API_KEYS=keys, OUTLAY_CURSOR_SECRET=CURSOR_SECRET, **extra)
        log, port = tmp_path_factory.mktemp("replica") / "server.log", free_port()
        with log.open("wb") as output:
            command = [OUTLAY, "serve", "--transport", "http", "--port", str(port)]
            processes.append(subprocess.Popen(command, env=env, stdout=output, stderr=output))
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, processes[-1], seconds=90, log=log)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
