"""The nightly forecast snapshot: one job per company and day, stored, and read back through
outlay://forecasts/latest by each company alone (inline here: the same job code the workers run)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from mcp import Client
from mcp_types import TextResourceContents
from sqlalchemy import func, select

from server.cli import job_handlers
from server.db.models import ForecastSnapshot, Job
from server.jobs.queue import start_nightly
from server.runtime import Runtime
from tests.jobs.test_get_job import server, settings_for
from tests.world import TODAY, connect, seed_world

pytestmark = pytest.mark.anyio


async def latest(client: Client) -> dict[str, Any]:
    [contents] = (await client.read_resource("outlay://forecasts/latest")).contents
    assert isinstance(contents, TextResourceContents)
    return dict(json.loads(contents.text))


async def test_each_company_reads_its_own_nightly_snapshot_taken_once_a_day(database_url: str) -> None:
    await seed_world(database_url)
    async with connect(server(database_url, "acme"), "auto") as acme:
        before = await latest(acme)
    handlers, nightly = job_handlers()
    async with Runtime(settings_for(database_url), local_company=None).open() as app:
        for _ in range(2):  # a second run the same day (another worker, a restart) starts nothing
            await start_nightly(app, handlers, nightly, dt.date(2026, 7, 20))
        async with app.sessions() as session:
            jobs = (await session.execute(select(Job.kind, Job.status, Job.idempotency_key))).all()
            snapshots = await session.scalar(select(func.count()).select_from(ForecastSnapshot))
    async with connect(server(database_url, "acme"), "auto") as acme:
        of_acme = await latest(acme)
    async with connect(server(database_url, "globex"), "auto") as globex:
        of_globex = await latest(globex)

    assert before["snapshot"] is None
    assert "No forecast snapshot yet" in before["note"]
    assert jobs == [("forecast_snapshot", "succeeded", "nightly-2026-07-20")] * 2  # one per company
    assert snapshots == 2
    assert of_acme["snapshot"]["as_of"] == of_globex["snapshot"]["as_of"] == TODAY.isoformat()
    assert (of_acme["company"], of_acme["snapshot"]["currency"]) != (
        of_globex["company"],
        of_globex["snapshot"]["currency"],
    )
    assert of_acme["note"] is None
