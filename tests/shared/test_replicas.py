"""Two `outlay serve --transport http` replicas on one PostgreSQL and one Redis, as a deployment runs
them: a caller hammering both gets one rate between them, a company's LLM budget holds across both
(the fake Messages API on loopback counts what was really asked), an answer cached by one is found by
the other; and with Redis away, reads answer while writes and LLM spend are refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import redis

from server.fakes.anthropic import FakeAnthropic
from server.fakes.loopback import serve_on_loopback
from server.fakes.script import Answer
from server.shared.writes import PAUSED
from tests.categorize.conftest import demo_folder, load_and_train  # noqa: F401 - the session fixture
from tests.operations.conftest import Spawn
from tests.shared.conftest import REDIS_URL, no_redis_url, redis_or_skip
from tests.transports.conftest import TOKENS, http_client
from tests.transports.test_http import MCP_HEADERS
from tests.world import raw

pytestmark = pytest.mark.anyio
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
ANSWER_TOKENS = 120  # what the fake reports for each answer: 100 in, 20 out
RATE, BURST = 5.0, 10
BUDGET = 1200


@pytest.fixture(scope="module")
def trained_postgres(make_database: Callable[[str], str], demo_folder: Path) -> str:  # noqa: F811
    url = make_database("postgresql")
    asyncio.run(load_and_train(url, demo_folder))
    return url


@pytest.fixture(scope="module")
def claude(trained_postgres: str) -> Iterator[tuple[FakeAnthropic, str]]:
    [(code,)] = asyncio.run(raw(trained_postgres, "SELECT min(code) FROM categories"))
    fake = FakeAnthropic(
        Answer({"category": code, "confidence": 0.9, "alternatives": [], "reason": "A guess."})
    )
    with serve_on_loopback(fake) as url:
        yield fake, url


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    """The module's own Redis keys, deleted afterwards."""
    client = redis_or_skip()
    name = f"outlay-test-{uuid.uuid4().hex[:12]}"
    yield name
    if keys := list(client.scan_iter(f"{name}:*")):
        client.delete(*keys)
    client.close()


def llm_settings(llm_url: str, **extra: str) -> dict[str, str]:
    return {
        "OUTLAY_GATEWAY__PROVIDER": "anthropic",
        "OUTLAY_GATEWAY__ANTHROPIC_API_KEY": "test-key",
        "OUTLAY_GATEWAY__BASE_URL": llm_url,
        "OUTLAY_GATEWAY__MAX_TOKENS": "64",
        "OUTLAY_GATEWAY__DEADLINE_SECONDS": "10",
        "OUTLAY_GATEWAY__ATTEMPT_TIMEOUT_SECONDS": "5",
        **extra,
    }


def on_redis(prefix: str, **extra: str) -> dict[str, str]:
    # A generous timeout on a loaded test machine: a slower answer would be a fallback, not a bug.
    return {
        "OUTLAY_REDIS_URL": REDIS_URL,
        "OUTLAY_REDIS_PREFIX": prefix,
        "OUTLAY_REDIS_TIMEOUT_SECONDS": "2",
        **extra,
    }


@pytest.fixture(scope="module")
def limited_pair(prefix: str, spawn: Spawn, trained_postgres: str) -> tuple[str, str]:
    # `prefix` first: its keys are deleted after the replicas stop (a late settlement writes none back)
    limits = on_redis(
        f"{prefix}:rate",
        OUTLAY_RATE_LIMIT__REQUESTS_PER_SECOND=str(RATE),
        OUTLAY_RATE_LIMIT__BURST=str(BURST),
    )
    return spawn(trained_postgres, **limits), spawn(trained_postgres, **limits)


@pytest.fixture(scope="module")
def budgeted_pair(
    prefix: str,
    spawn: Spawn,
    trained_postgres: str,
    claude: tuple[FakeAnthropic, str],
) -> tuple[str, str]:
    budget = llm_settings(claude[1], **on_redis(prefix, OUTLAY_GATEWAY__DAILY_TOKEN_BUDGET=str(BUDGET)))
    return spawn(trained_postgres, **budget), spawn(trained_postgres, **budget)


async def hammer(urls: tuple[str, ...], token: str, seconds: float) -> tuple[list[tuple[str, int]], float]:
    """Eight clients sending tools/list round the replicas for `seconds`: (replica, status) of every
    request, and how long the hammering took, last answer included."""
    headers = MCP_HEADERS | {"Authorization": f"Bearer {token}", "MCP-Protocol-Version": "2025-11-25"}
    answers: list[tuple[str, int]] = []
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        start = anyio.current_time()

        async def client(url: str) -> None:
            while anyio.current_time() - start < seconds:
                answers.append((url, (await http.post(f"{url}/mcp", json=LIST_TOOLS)).status_code))

        async with anyio.create_task_group() as tasks:
            for n in range(8):
                tasks.start_soon(client, urls[n % len(urls)])
        return answers, anyio.current_time() - start


async def test_a_caller_hammering_both_replicas_gets_one_rate_between_them(
    limited_pair: tuple[str, str],
) -> None:
    pair = limited_pair
    answers, elapsed = await hammer(pair, TOKENS["globex"], seconds=4.0)

    granted = [url for url, status in answers if status == 200]
    allowed = BURST + RATE * elapsed  # what one replica alone would let through
    assert {status for _, status in answers} == {200, 429}
    assert len(granted) <= allowed * 1.05, (len(granted), allowed, len(answers))
    assert len(granted) >= BURST
    assert set(granted) == set(pair)  # both replicas served the caller


async def categorize(url: str, descriptor: str) -> dict[str, Any]:
    async with http_client(url, TOKENS["acme"]) as client:
        result = await client.call_tool("categorize_expense", {"descriptor": descriptor, "amount": "120.00"})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def test_the_llm_budget_and_the_answer_cache_hold_across_both_replicas(
    budgeted_pair: tuple[str, str], claude: tuple[FakeAnthropic, str], prefix: str
) -> None:
    pair, (fake, _) = budgeted_pair, claude
    fake.script.reset(fake.script.default)
    await categorize(pair[0], "ZQX HOLDINGS CACHED")
    cached = await categorize(pair[1], "ZQX HOLDINGS CACHED")
    assert len(fake.script.received) == 1  # the second replica found the first one's answer
    assert not cached["degraded"]

    answers: list[dict[str, Any]] = []

    async def client(n: int) -> None:
        for k in range(6):
            answers.append(await categorize(pair[n % 2], f"ZQX HOLDINGS {n}-{k}"))

    async with anyio.create_task_group() as tasks:
        for n in range(6):
            tasks.start_soon(client, n)

    asked = len(fake.script.received) * ANSWER_TOKENS
    reasons = [d["reason"] for answer in answers for d in answer["degraded"]]
    assert BUDGET <= asked <= BUDGET + ANSWER_TOKENS  # used up, and over by one request's worth at most
    assert reasons
    assert set(reasons) == {"budget_exhausted"}
    counted = redis.Redis.from_url(REDIS_URL).get(f"{prefix}:budget:{_utc_day()}:acme")
    assert counted is not None
    assert int(counted) == asked  # every reservation settled to what was used


def _utc_day() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).date().isoformat()


@pytest.fixture(scope="module")
def without_redis(spawn: Spawn, trained_postgres: str, claude: tuple[FakeAnthropic, str]) -> str:
    return spawn(trained_postgres, **llm_settings(claude[1], OUTLAY_REDIS_URL=no_redis_url()))


async def test_with_redis_away_reads_answer_and_writes_are_refused(without_redis: str) -> None:
    async with http_client(without_redis, TOKENS["acme"]) as client:
        read = await client.call_tool("search_expenses", {"limit": 5})
        write = await client.call_tool(
            "recategorize_expense", {"expense_id": "EXP-1", "category": "TRAVEL", "reason": "A taxi."}
        )
        guessed = await client.call_tool("categorize_expense", {"descriptor": "ZQX AWAY", "amount": "9.00"})
    ready = httpx2.get(f"{without_redis}/readyz")
    metrics = httpx2.get(f"{without_redis}/metrics").text

    assert not read.is_error
    assert write.is_error
    assert [block.text for block in write.content if block.type == "text"] == [PAUSED]
    assert guessed.structured_content is not None
    assert [d["reason"] for d in guessed.structured_content["degraded"]] == ["budget_unreachable"]
    assert ready.status_code == 200
    assert ready.json()["shared_state"] == {"backend": "redis", "status": "unreachable", "writes": "refused"}
    assert sample(metrics, "outlay_shared_state_up", 'backend="redis"') == 0
    assert sample(metrics, "outlay_calls_total", 'name="recategorize_expense"', 'outcome="unavailable"') == 1


def sample(metrics: str, name: str, *labels: str) -> float:
    """The value of the one sample of `name` whose labels include `labels`."""
    [value] = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith(f"{name}{{") and all(label in line for label in labels)
    ]
    return value
