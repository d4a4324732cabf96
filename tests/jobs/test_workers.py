"""Two `outlay worker` processes on one PostgreSQL database: a worker killed with SIGKILL in the middle
of a job leaves it to the other (started after the kill, so that which one ran it first is known), and
the work is done exactly once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.jobs.conftest import QUEUE_ENV, kill, outlay, postgres_company, query, wait_for, workers


def job_row(url: str, job_id: int) -> dict[str, object]:
    rows = query(
        url, "SELECT status, attempts, progress_done, result, error FROM jobs WHERE id = :id", id=job_id
    )
    status, attempts, done, result, error = rows[0]
    return {"status": status, "attempts": attempts, "done": done, "result": result, "error": error}


def test_a_worker_killed_mid_training_leaves_the_job_to_the_other_and_one_version(
    make_database: Callable[[str], str], company_folder: Path, tmp_path: Path
) -> None:
    url = postgres_company(make_database, company_folder, train=True)  # v1 serving
    with workers(url, tmp_path) as running:
        first = running.start()
        queued = outlay("train", url=url, **QUEUE_ENV)
        assert queued.returncode == 0, queued.stderr
        assert "queued the categorizer's training as job 1" in queued.stderr
        wait_for(lambda: job_row(url, 1)["status"] == "running", seconds=30, what="the training to start")
        kill(first)
        assert query(url, "SELECT count(*) FROM model_versions")[0][0] == 1  # killed mid-training
        running.start()
        done = wait_for(
            lambda: job_row(url, 1)["status"] == "succeeded" and job_row(url, 1),
            seconds=60,
            what="the other worker to finish the training",
        )
    versions = query(url, "SELECT version, serving FROM model_versions ORDER BY version")
    assert versions == [(1, False), (2, True)]
    assert done["attempts"] == 2
    assert done["result"]["version"] == 2
    listed = outlay("jobs", "list", "--json", url=url)
    assert [(j["id"], j["kind"], j["status"]) for j in json.loads(listed.stdout)] == [
        (1, "train_categorizer", "succeeded")
    ]


def test_a_backlog_interrupted_by_sigkill_writes_every_expense_exactly_once(
    make_database: Callable[[str], str], company_folder: Path, tmp_path: Path
) -> None:
    url = postgres_company(make_database, company_folder, train=True)
    backlog = {r[0] for r in query(url, "SELECT ref FROM expenses WHERE category_id IS NULL")}
    with workers(url, tmp_path, OUTLAY_JOBS__BACKLOG_CHUNK="5") as running:
        first = running.start()
        queued = asyncio.run(_queue_backlog(url))
        assert queued["status"] == "queued"  # at once: the call does not wait for the work
        job_id = queued["job_id"]
        wait_for(lambda: job_row(url, job_id)["done"], seconds=60, what="a first chunk written")
        kill(first)
        assert job_row(url, job_id)["status"] == "running"  # killed before the end
        running.start()
        done = wait_for(
            lambda: job_row(url, job_id)["status"] == "succeeded" and job_row(url, job_id),
            seconds=90,
            what="the other worker to finish the backlog",
        )
    written = query(
        url,
        "SELECT details->>'key', count(*) FROM data_changes WHERE action = 'categorize' GROUP BY 1",
    )
    now_categorized = {
        r[0] for r in query(url, "SELECT ref FROM expenses WHERE category_id IS NOT NULL") if r[0] in backlog
    }
    assert done["attempts"] == 2
    assert [count for _, count in written if count != 1] == []  # no expense written twice
    assert {key for key, _ in written} == now_categorized  # every expense written is recorded once
    assert done["result"]["applied"] == len(now_categorized) > 0
    assert done["result"]["done"] >= len(backlog) - 5  # the interrupted chunk is done again, not lost


async def _queue_backlog(url: str) -> dict[str, Any]:
    from tests.jobs.test_get_job import BACKLOG, server
    from tests.world import call_ok, connect

    async with connect(server(url, "acme", queue="postgresql"), "auto") as client:
        output = await call_ok(client, "categorize_expenses", BACKLOG)
    return dict(output["job"])


def test_a_job_failing_every_attempt_is_dead_listed_and_retried(
    make_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = make_database("postgresql")
    job_id = asyncio.run(_queue_unrunnable(url))
    with workers(url, tmp_path, OUTLAY_JOBS__MAX_ATTEMPTS="2") as running:
        running.start()
        dead = wait_for(
            lambda: job_row(url, job_id)["status"] == "dead" and job_row(url, job_id),
            seconds=60,
            what="the job to run out of attempts",
        )
        listed = outlay("jobs", "list", "--dead", url=url)
        retried = outlay("jobs", "retry", str(job_id), url=url, **QUEUE_ENV)
        again = wait_for(
            lambda: job_row(url, job_id)["status"] == "dead" and job_row(url, job_id)["attempts"] == 2,
            seconds=60,
            what="the retried job to fail its attempts again",
        )
    assert (dead["attempts"], dead["error"]) == (2, "no worker code for jobs of kind 'no_such_kind'")
    assert [line.split()[:4] for line in listed.stdout.splitlines()] == [
        [str(job_id), "company", "1", "no_such_kind"]
    ]
    assert (retried.returncode, retried.stderr) == (0, f"Job {job_id}: queued again.\n")
    assert again


async def _queue_unrunnable(url: str) -> int:
    from server.db.engine import create_engine, create_session_factory
    from server.jobs import store
    from tests.world import seed_world

    await seed_world(url)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            job, _ = await store.create(
                session, company_id=1, kind="no_such_kind", arguments={}, key=None, requested_by="test"
            )
            await session.flush()
            await store.defer(session, job.id)
            return job.id
    finally:
        await engine.dispose()
