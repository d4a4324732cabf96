"""`outlay bench --only shared_limits`: the overhead the shared limits add, measured and rendered."""

from __future__ import annotations

import pytest

from bench.shared_limits import measure, render
from tests.shared.conftest import REDIS_URL

pytestmark = pytest.mark.anyio


async def test_the_overhead_per_call_is_measured_for_both_backends(redis_prefix: str) -> None:
    result = await measure(REDIS_URL, calls=64)

    for backend in ("memory", "redis"):
        for kind in ("request", "llm_request"):
            timing = result[backend][kind]
            assert 0 < timing["p50_us"] <= timing["p95_us"], (backend, kind, timing)
    assert set(result["overhead_p50_us"]) == {"request", "llm_request"}
    assert "| request |" in render(result)
