"""The categorizer's long work as jobs (docs/jobs.md): training a company's model, and working through
its whole uncategorized backlog with apply.

Training stores the new version (and serves it) in the transaction that marks the job succeeded: the
server answers with the previous version until then, and an attempt killed on the way leaves nothing.
The backlog goes in chunks, each written in one transaction with the job's checkpoint (the cursor past
it): a retry resumes after the last chunk written, so every expense is written once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from server.db.models import Company
from server.jobs.runner import JobRun
from tools.categorize import logic

TRAIN, BACKLOG = "train_categorizer", "categorize_backlog"


async def train_categorizer(run: JobRun) -> None:
    from tools.categorize import training  # scikit-learn loads with the first training, not at start-up

    serve = bool(run.arguments.get("serve", True))
    await run.progress(0, 1, "training the categorizer")
    async with run.app.sessions() as session, session.begin():
        company = await session.get_one(Company, run.company_id)
        row = await training.train_company(session, company, serve=serve, actor=run.actor)
        holdout = row.metrics.get("holdout", {})
        result = {"version": row.version, "rows": row.rows, "serving": serve, "holdout": holdout}
        await run.succeed_in(session, result)


def backlog_arguments(selection: logic.Selection) -> dict[str, Any]:
    """A backlog filter as the job stores it (JSON)."""
    days = {"date_from": selection.date_from, "date_to": selection.date_to}
    texts = {"team": selection.team, "employee": selection.employee, "merchant": selection.merchant}
    return {k: v.isoformat() for k, v in days.items() if v} | {k: v for k, v in texts.items() if v}


async def categorize_backlog(run: JobRun) -> None:
    from tools.categorize import service  # numpy and scipy load with the first categorization

    # The cursor never leaves the job: signed with a key of the job's own, valid on any worker.
    secret = f"outlay-job-{run.job_id}".encode()
    state = {"cursor": None, "done": 0, "applied": 0, "total": None, "counts": {}} | run.checkpoint
    while True:
        async with run.app.sessions() as session, session.begin():
            caller = await run.caller(session)
            selection = _selection(run.arguments, run.app.settings.jobs.backlog_chunk, state["cursor"])
            batch = await service.select_batch(session, caller, secret, selection)
            output = await service.categorize_batch(
                run.app, session, caller, batch, apply=True, dry_run=False
            )
            state["total"] = state["total"] or batch.total_matched
            state["done"] += len(batch.rows)
            state["applied"] += output.applied
            state["counts"] = dict(Counter(state["counts"]) + Counter(output.counts))
            state["cursor"] = batch.next_cursor
            message = f"categorized {state['done']} of {state['total']}, applied {state['applied']}"
            if batch.next_cursor is None:
                result = {k: state[k] for k in ("done", "applied", "counts")}
                await run.succeed_in(session, result | {"model_version": output.model_version})
                return
            await run.checkpoint_in(session, state, state["done"], state["total"], message)


def _selection(arguments: dict[str, Any], chunk: int, cursor: str | None) -> logic.Selection:
    def day(name: str) -> dt.date | None:
        return dt.date.fromisoformat(arguments[name]) if arguments.get(name) else None

    return logic.Selection(
        None,
        day("date_from"),
        day("date_to"),
        arguments.get("team"),
        arguments.get("employee"),
        arguments.get("merchant"),
        chunk,
        cursor,
    )


HANDLERS = {TRAIN: train_categorizer, BACKLOG: categorize_backlog}
