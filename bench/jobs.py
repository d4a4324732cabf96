"""Job latency: enqueue -> start on an idle `outlay worker` (procrastinate on PostgreSQL, LISTEN/NOTIFY),
and the whole run of a small job, in a scratch database of its own with a small demo company.

Each job is a real one (`forecast_snapshot`), submitted the way the server and the CLI do
(`server.jobs.runner.submit`: the row and procrastinate's job in one transaction) and waited for before
the next, so the worker is idle at every enqueue. Start = the job row's `started_at`, written once the
worker has fetched the job, taken its advisory lock and marked it running: what a caller of get_job
sees. Both timestamps come from this machine's clock."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.importing import recreate_database

SCRATCH = "outlay_bench_jobs"
SIZE = (20, 6)
QUEUE_ENV = {"OUTLAY_JOBS__QUEUE": "postgresql", "OUTLAY_LOG_LEVEL": "WARNING"}


def measure(postgres_url: str, today: str, jobs: int, folder: Path) -> dict[str, Any]:
    url = make_url(postgres_url).set(database=SCRATCH).render_as_string(hide_password=False)
    asyncio.run(recreate_database(url, SCRATCH))
    env = os.environ | {"OUTLAY_DATABASE_URL": url, "OUTLAY_TODAY": today, **QUEUE_ENV}
    outlay = str(Path(sys.executable).with_name("outlay"))
    subprocess.run([outlay, "db", "upgrade"], env=env, check=True, stderr=subprocess.DEVNULL)
    demo = ["demo", "--employees", str(SIZE[0]), "--months", str(SIZE[1]), "--out", str(folder)]
    subprocess.run([outlay, *demo], env=env | {"OUTLAY_JOBS__QUEUE": "inline"}, check=True)
    worker = subprocess.Popen([outlay, "worker"], env=env, stderr=subprocess.DEVNULL)
    try:
        timings = asyncio.run(_run_jobs(url, today, jobs + 1))[1:]  # the first waits for the worker to start
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    return {"company": f"{SIZE[0]}x{SIZE[1]}", "jobs": jobs, **_summary(timings)}


async def _run_jobs(url: str, today: str, count: int) -> list[tuple[float, float]]:
    """(enqueue -> start, start -> end) in ms for each job."""
    import datetime as dt

    from server.db.models import Company, Job
    from server.jobs.runner import Submission, submit
    from server.runtime import Runtime
    from server.settings import Settings
    from server.settings.jobs import JobSettings
    from tools.forecast.jobs import SNAPSHOT

    settings = Settings(
        database_url=url, today=dt.date.fromisoformat(today), jobs=JobSettings(queue="postgresql")
    )
    timings = []
    async with Runtime(settings, local_company=None).open() as app:
        async with app.sessions() as session:
            company = await session.get_one(Company, 1)
        for n in range(count):
            job, _ = await submit(app, {}, Submission(company.id, SNAPSHOT, {}, "bench", f"bench-{n}"))
            while True:
                async with app.sessions() as session:
                    row = await session.get_one(Job, job.id)
                if row.finished_at is not None:
                    break
                await asyncio.sleep(0.01)
            assert row.started_at is not None, row.error
            started = (row.started_at - row.created_at).total_seconds() * 1000
            timings.append((started, (row.finished_at - row.started_at).total_seconds() * 1000))
    return timings


def _summary(timings: list[tuple[float, float]]) -> dict[str, Any]:
    starts = sorted(t[0] for t in timings)
    runs = sorted(t[1] for t in timings)
    p95 = max(0, round(len(starts) * 0.95) - 1)
    return {
        "enqueue_to_start_ms": {
            "p50": round(statistics.median(starts), 1),
            "p95": round(starts[p95], 1),
            "max": round(starts[-1], 1),
        },
        "run_ms_p50": round(statistics.median(runs), 1),
    }


def render(result: dict[str, Any]) -> str:
    latency = result["enqueue_to_start_ms"]
    return "\n".join(
        [
            "# Jobs: enqueue -> start on an idle worker",
            "",
            f"{result['jobs']} `forecast_snapshot` jobs of the {result['company']} demo company, one after "
            "another, on one `outlay worker` (procrastinate, PostgreSQL LISTEN/NOTIFY).",
            "",
            "| enqueue -> start p50 ms | p95 ms | max ms | job run p50 ms |",
            "| --- | --- | --- | --- |",
            f"| {latency['p50']} | {latency['p95']} | {latency['max']} | {result['run_ms_p50']} |",
        ]
    )
