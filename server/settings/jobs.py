"""Knobs of the job queue (`OUTLAY_JOBS__*`, docs/jobs.md): off by default, when jobs run inline."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class JobSettings(BaseModel):
    """`queue=postgresql` puts long work (training, backlogs, nightly forecasts) on the procrastinate
    queue in the database of OUTLAY_DATABASE_URL, run by `outlay worker`; `inline` runs the same job code
    in the calling process (the embedded SQLite default)."""

    queue: Literal["inline", "postgresql"] = Field(
        default="inline",
        description="inline: jobs run in the calling process; postgresql: on the queue, by `outlay worker`.",
    )
    max_attempts: int = Field(
        default=4, ge=1, description="Attempts of a job before it is dead (`outlay jobs list --dead`)."
    )
    backoff_seconds: int = Field(
        default=3, ge=0, description="Retry n waits backoff**(n+1) seconds (3: 9 s, 27 s, 81 s)."
    )
    heartbeat_seconds: float = Field(default=5.0, gt=0, description="How often a worker says it is alive.")
    stalled_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A worker silent this long is dead: its running jobs go to another worker.",
    )
    concurrency: int = Field(default=1, ge=1, description="Jobs one `outlay worker` runs at once.")
    backlog_chunk: int = Field(
        default=500, ge=1, le=1000, description="Expenses a backlog job categorizes per transaction."
    )
    import_queue_rows: int = Field(
        default=100_000,
        ge=0,
        description="With a queue, `outlay import` of this many expense rows or more is checked in the "
        "command and written by a worker (0: every import; `--queue`/`--inline` choose for one import).",
    )
    forecast_cron: str = Field(
        default="0 2 * * *", description="When (UTC, cron) the workers snapshot every company's forecasts."
    )
