"""categorize_expenses with whole_backlog=true: the entire matching backlog as one job (tools/categorize/
jobs.py), queued when the server has a queue, else run to the end within the call."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from server.errors import InvalidArgument
from server.jobs.runner import Submission, submit
from server.jobs.schemas import view
from tools.categorize import jobs, logic
from tools.categorize.schemas import CategorizeExpensesOutput

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import AppContext, Caller


@dataclass(frozen=True)
class Request:
    selection: logic.Selection
    apply: bool
    dry_run: bool
    confirmed: bool
    idempotency_key: str | None


def check(request: Request) -> None:
    selection = request.selection
    if selection.expense_ids is not None or selection.cursor is not None:
        raise InvalidArgument(
            "whole_backlog works on the backlog of a filter: leave out expense_ids and cursor"
        )
    if not request.apply or request.dry_run:
        raise InvalidArgument(
            "whole_backlog writes (apply=true, dry_run=false); to look first, call without whole_backlog"
        )


async def start(
    app: AppContext, session: AsyncSession, caller: Caller, request: Request
) -> CategorizeExpensesOutput:
    """The job for the backlog (the same one for the same idempotency key), or nothing when the user
    declined; `items` stay empty: the job's result has the counts."""
    from tools.categorize import service
    from tools.categorize.books import open_books

    check(request)
    secret = app.settings.cursor_secret.get_secret_value().encode()
    one = replace(request.selection, limit=1)
    first = await service.select_batch(session, caller, secret, one)  # checks the filters
    books = await open_books(app, session, caller)
    output = CategorizeExpensesOutput(
        items=[],
        counts={},
        sources={},
        next_cursor=None,
        total_matched=first.total_matched,
        applied=0,
        dry_run=False,
        model_version=books.version.version if books.version else None,
        thresholds=books.thresholds,
    )
    if not request.confirmed:
        return output
    submission = Submission(
        caller.company_id,
        jobs.BACKLOG,
        jobs.backlog_arguments(request.selection),
        caller.subject,
        request.idempotency_key,
    )
    job, _ = await submit(app, jobs.HANDLERS, submission)
    return output.model_copy(update={"job": view(job)})
