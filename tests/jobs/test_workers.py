"""Two `outlay worker` processes on one PostgreSQL database: a worker killed with SIGKILL in the middle
of a job leaves it to the other, and the work is done exactly once."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

from tests.jobs.conftest import QUEUE_ENV, outlay, postgres_company, query, wait_for, workers


def job_row(url: str, job_id: int) -> dict[str, object]:
    rows = query(
        url, "SELECT status, attempts, progress_done, result, error FROM jobs WHERE id = :id", id=job_id
    )
    status, attempts, done, result, error = rows[0]
    return {"status": status, "attempts": attempts, "done": done, "result": result, "error": error}


def running_on(logs: Path, count: int = 2) -> int | None:
    """Which worker (by number) started a job first, from the workers' logs."""
    for n in range(count):
        if "Starting job outlay.run_job" in (logs / f"worker-{n}.log").read_text(errors="replace"):
            return n
    return None


def test_a_worker_killed_mid_training_leaves_the_job_to_the_other_and_one_version(
    make_database: Callable[[str], str], company_folder: Path, tmp_path: Path
) -> None:
    url = postgres_company(make_database, company_folder, train=True)  # v1 serving
    with workers(url, tmp_path, 2) as started:
        queued = outlay("train", url=url, **QUEUE_ENV)
        assert queued.returncode == 0, queued.stderr
        assert "queued the categorizer's training as job 1" in queued.stderr
        n = wait_for(lambda: running_on(tmp_path), seconds=30, what="the training to start")
        assert query(url, "SELECT count(*) FROM model_versions")[0][0] == 1  # still training
        victim = started[n]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
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
