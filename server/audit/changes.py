"""The record of data changes, imports and training (`data_changes`): one row per change, written in the
transaction that makes it, so that a change and its record commit or roll back together.

A change made during a tool call carries the call's id, which its row in the trail of calls
(`server/audit/trail.py`) carries too: `outlay audit --json` lists each call with what it changed.
A changed row is recorded as `{"table", "key", "before", "after", ...}` in `details`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from server.db.values import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# The id of the call being handled (set by the trail for each audited call); None outside a call.
current_call: ContextVar[str | None] = ContextVar("outlay_current_call", default=None)


async def record(
    session: AsyncSession,
    company_id: int | None,
    *,
    actor: str,
    action: str,
    details: Iterable[Mapping[str, Any]],
) -> None:
    """One row per item of `details`, in the session's transaction, linked to the current call if any."""
    at, call_id = utcnow(), current_call.get()
    rows = [
        {
            "company_id": company_id,
            "at": at,
            "actor": actor,
            "action": action,
            "details": dict(item),
            "call_id": call_id,
        }
        for item in details
    ]
    if rows:
        from sqlalchemy import insert  # not at import: this module loads before SQLAlchemy (server.context)

        from server.db.models import DataChange

        await session.execute(insert(DataChange), rows)


async def of_calls(session: AsyncSession, call_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """What each of these calls changed, oldest first."""
    if not call_ids:
        return {}
    from sqlalchemy import select

    from server.db.models import DataChange

    query = (
        select(DataChange.call_id, DataChange.details)
        .where(DataChange.call_id.in_(call_ids))
        .order_by(DataChange.id)
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for call_id, details in (await session.execute(query)).all():
        found.setdefault(call_id or "", []).append(details)
    return found
