"""What the shared limits add to a call: the abuse limits' path of one request on /mcp (a token from
the caller's bucket, a concurrency slot held, then released) through `LimitsMiddleware` around an app
that does nothing, in process and on Redis; and, per LLM request, the budget's reservation and
settlement with a cache lookup and store. Needs a Redis (`--redis-url`); its keys get a prefix of
their own and are deleted afterwards.

    python -m bench.shared_limits [--redis-url redis://127.0.0.1:6379/0] [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from starlette.types import Message, Receive, Scope, Send

from server.http.limits import LimitsMiddleware
from server.settings import Settings
from server.shared.state import SharedState, open_shared_state

REDIS_URL = "redis://127.0.0.1:6379/0"
CONCURRENT = 16
SCOPE: Scope = {
    "type": "http",
    "method": "POST",
    "path": "/mcp",
    "headers": [(b"content-length", b"2")],
    "client": ("127.0.0.1", 50000),
}


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()


async def _body() -> Message:
    return {"type": "http.request", "body": b"{}", "more_body": False}


async def _sent(message: Message) -> None:
    raise AssertionError(f"refused: {message}")  # the limits are set far above what the bench sends


def settings(redis_url: str | None, prefix: str) -> Settings:
    return Settings.model_validate(
        {
            "database_url": "sqlite+aiosqlite:///unused.db",
            "redis_url": redis_url,
            "redis_prefix": prefix,
            "rate_limit": {"requests_per_second": 1e9, "burst": 10**9, "concurrency": 10**6},
            "gateway": {"daily_token_budget": 10**12},
        }
    )


async def _timed(one: Callable[[], Awaitable[None]], calls: int) -> dict[str, float]:
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        await one()
        seconds.append(time.perf_counter() - started)
    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for _ in range(CONCURRENT):
            tasks.start_soon(_repeat, one, calls // CONCURRENT)
    wall = time.perf_counter() - started
    micros = sorted(s * 1e6 for s in seconds)
    return {
        "p50_us": round(statistics.median(micros), 1),
        "p95_us": round(micros[int(len(micros) * 0.95)], 1),
        "mean_us": round(statistics.fmean(micros), 1),
        f"per_s_{CONCURRENT}_at_once": round(calls // CONCURRENT * CONCURRENT / wall),
    }


async def _repeat(one: Callable[[], Awaitable[None]], times: int) -> None:
    for _ in range(times):
        await one()


async def _one_backend(config: Settings, calls: int) -> dict[str, Any]:
    async with open_shared_state(config) as shared:
        middleware = LimitsMiddleware(_nothing, config.rate_limit, lambda: shared.limits)

        async def request() -> None:
            await middleware(SCOPE, _body, _sent)

        async def llm_request() -> None:
            await _budget_and_cache(shared)

        await _timed(request, min(calls, 200))  # warm: scripts loaded, connections open
        return {"request": await _timed(request, calls), "llm_request": await _timed(llm_request, calls)}


async def _budget_and_cache(shared: SharedState) -> None:
    """What the gateway adds to one LLM request: a cache miss, a reservation, its settlement, a store."""
    await shared.cache.get("bench", "question")
    reservation = await shared.budget.reserve("bench", 1500)
    assert reservation is not None
    await shared.budget.settle(reservation, 120)
    await shared.cache.put("bench", "question", {"category": "TRAVEL"})


async def measure(redis_url: str = REDIS_URL, calls: int = 2000) -> dict[str, Any]:
    prefix = f"outlay-bench-{uuid.uuid4().hex[:8]}"
    memory = await _one_backend(settings(None, prefix), calls)
    try:
        redis = await _one_backend(settings(redis_url, prefix), calls)
    finally:
        await _forget(redis_url, prefix)
    overhead = {
        kind: round(redis[kind]["p50_us"] - memory[kind]["p50_us"], 1) for kind in ("request", "llm_request")
    }
    return {"calls": calls, "memory": memory, "redis": redis, "overhead_p50_us": overhead}


async def _forget(redis_url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def render(result: dict[str, Any]) -> str:
    lines = [
        "# Shared limits: overhead per call",
        "",
        f"{result['calls']} calls one after another (p50 / p95 / mean µs), then {CONCURRENT} at once "
        "(calls/s); `request`: the abuse limits' path of one request on /mcp (bucket, slot taken and "
        "released); `llm_request`: the budget reserved and settled, the cache looked up and filled.",
        "",
        f"| path | in process | on Redis | overhead p50 µs | {CONCURRENT} at once /s: in process, Redis |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind in ("request", "llm_request"):
        memory, redis = result["memory"][kind], result["redis"][kind]
        rate = f"per_s_{CONCURRENT}_at_once"
        lines.append(
            f"| {kind} | {memory['p50_us']} / {memory['p95_us']} / {memory['mean_us']} "
            f"| {redis['p50_us']} / {redis['p95_us']} / {redis['mean_us']} "
            f"| {result['overhead_p50_us'][kind]} | {memory[rate]} / {redis[rate]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.redis_url, args.calls))
    print(render(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
