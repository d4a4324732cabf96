"""Redis for shared-state tests: `OUTLAY_TEST_REDIS_URL` (default: the local server, database 0). Each
test gets a key prefix of its own, and its keys are deleted after it, so tests (and concurrent runs)
stay apart. When Redis is unreachable these tests are skipped, except under CI=true, where they fail."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from server.fakes.loopback import free_port
from server.settings import Settings

REDIS_URL = os.environ.get("OUTLAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_or_skip() -> redis.Redis:
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
    client = _redis_or_skip()
    prefix = f"outlay-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = _redis_or_skip()
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
