"""The trail of calls: one `audit_events` row per tool call, resource read and prompt (who, which
company, what, a digest of the arguments, how it ended, how long it took, the trace, the call's id).

The request middleware (`server.calls.observe_request`) opens an `AuditedCall` per request and finishes
it once the outcome is known. A call whose transaction commits writes its row in that transaction, just
before the COMMIT (`write_in`): a change and the row of the call that made it commit or roll back
together, and the row costs no transaction of its own. On PostgreSQL the row is one statement, the
function `outlay_record_call` (migration 0025), which writes it for the company the transaction entered
and no other, as its owner: the tool-call role may still neither read nor write the trail. The row of a
transaction that changed nothing (a read) commits without waiting for the WAL flush (`synchronous_commit =
off`): a crash of PostgreSQL itself may lose the last few hundred milliseconds of such rows, never a
change's. Any other call (it failed and rolled back, or it never reached a transaction) gets its row
afterwards, in a transaction of its own (`finish`). What a call changed is recorded once, with the change
itself, by `server.audit.changes` under the same call id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from contextvars import Token
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from server.audit import changes
from server.context import AppContext
from server.db.values import utc, utcnow
from server.telemetry.logs import trace_ids

if TYPE_CHECKING:
    from sqlalchemy import Insert, TextClause
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from server.db.models import CallEvent

log = logging.getLogger("outlay.audit")
AUDITED_KINDS = frozenset({"tool", "resource", "prompt"})
WRITE_SECONDS = 5.0  # an unreachable database must not hold the call's answer (or a shutdown) for long
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The row as the function `outlay_record_call` takes it (`write_in`); `count` is the column's default, 1.
_ROW_COLUMNS = (
    "at",
    "subject",
    "company",
    "kind",
    "name",
    "arguments_sha256",
    "outcome",
    "latency_ms",
    "trace_id",
    "call_id",
)
# On PostgreSQL, in the call's transaction, as the tool-call role: the function checks that the row is
# for the company the transaction entered, turns the wait for the WAL flush off unless the transaction
# has changed something (then it has a transaction id, and commits as configured), and inserts the row
# as its owner (the tool-call role may not write the trail itself).
_RECORD_CALL = f"SELECT outlay_record_call({', '.join(f'${n}' for n in range(1, len(_ROW_COLUMNS) + 1))})"


# The statements are built once, at the first call (SQLAlchemy is not loaded before: server.context).
@cache
def _insert_event() -> Insert:
    from sqlalchemy import insert

    from server.db.models import CallEvent

    return insert(CallEvent)  # its values are bound per row


@cache
def _record_call() -> TextClause:
    from sqlalchemy import text

    return text(f"SELECT outlay_record_call({', '.join(f':{column}' for column in _ROW_COLUMNS)})")


class CallNote(Protocol):
    """What the request middleware knows of a call once it has ended (`server.calls.CallRecord`)."""

    kind: str
    name: str
    company: str
    outcome: str
    subject: str


def arguments_digest(arguments: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the arguments: two calls with the same arguments match, and the
    values (which can hold personal data) are not kept."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode(errors="surrogatepass")).hexdigest()


def storable(text: str, length: int) -> str:
    """What a caller sent (a tool name, a resource URI, a token's subject or company), in a form every
    backend stores: control characters (PostgreSQL refuses NUL in text) and lone surrogates written as
    escapes (`\\x00`), cut to the column's length. The trail must never fail on what a caller sent."""
    escaped = _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)
    return escaped.encode(errors="backslashreplace").decode()[:length]


class AuditedCall:
    """One request from start to audit row; the changes its handler records carry its id."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.call_id = uuid.uuid4().hex
        self.started = time.perf_counter()
        self.written = False  # its row committed with the call's transaction
        self._params = params
        self._token: Token[str | None] = changes.current_call.set(self.call_id)

    def latency_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)

    async def write_in(self, session: AsyncSession, note: CallNote) -> None:
        """The row of a call that ended well, in its transaction, just before its COMMIT; the caller sets
        `written` once the COMMIT went through."""
        connection = await session.connection()  # Core, not the ORM's bulk-insert path: less CPU a call
        row = self._row(note, self.latency_ms())
        if connection.dialect.name != "postgresql":
            await connection.execute(_insert_event(), row)
            return
        # Through the driver, in the transaction SQLAlchemy began on this connection: a statement every
        # call ends with costs 0.25-0.35 ms of CPU through SQLAlchemy, 0.1-0.15 ms through asyncpg.
        driver = (await connection.get_raw_connection()).driver_connection
        if driver is not None and driver.is_in_transaction():
            await driver.execute(_RECORD_CALL, *(row[column] for column in _ROW_COLUMNS))
        else:
            await connection.execute(_record_call(), row)

    async def finish(self, app: AppContext, note: CallNote, latency_ms: float) -> None:
        """The row, in a transaction of its own, unless the call's transaction committed it already."""
        changes.current_call.reset(self._token)
        if note.kind in AUDITED_KINDS and not self.written:
            await append(app.sessions, self._row(note, latency_ms))

    def _row(self, note: CallNote, latency_ms: float) -> dict[str, Any]:
        if note.kind == "resource":
            arguments: Mapping[str, Any] = {"uri": self._params.get("uri")}
        else:
            arguments = self._params.get("arguments") or {}
        return {
            "at": utcnow(),
            "subject": storable(note.subject, 200),
            "company": None if note.company == "-" else storable(note.company, 64),
            "kind": note.kind,
            "name": storable(note.name, 200),
            "arguments_sha256": arguments_digest(arguments),
            "outcome": note.outcome,
            "latency_ms": latency_ms,
            "trace_id": trace_ids().get("trace_id"),
            "call_id": self.call_id,
        }


async def refused(
    sessions: async_sessionmaker[AsyncSession],
    *,
    subject: str,
    company: str | None,
    request: tuple[str, str, Mapping[str, Any]],
    outcome: str,
    latency_ms: float,
) -> None:
    """A request refused before any handler ran (a token without a scope it needs): its row, as the
    call's would have been; `request` is (kind, name, arguments). No call id: nothing ran to change."""
    kind, name, arguments = request
    row = {
        "at": utcnow(),
        "subject": storable(subject, 200),
        "company": None if company is None else storable(company, 64),
        "kind": kind,
        "name": storable(name, 200),
        "arguments_sha256": arguments_digest(arguments),
        "outcome": outcome,
        "latency_ms": latency_ms,
        "trace_id": trace_ids().get("trace_id"),
        "call_id": None,
    }
    await append(sessions, row)


async def append(sessions: async_sessionmaker[AsyncSession], row: Mapping[str, Any]) -> None:
    """Insert one event in its own transaction, even for a call being cancelled, but for a bounded time.
    A failure is logged with the event, not raised: the call's own answer is decided already and must
    still reach the caller."""
    error = "timeout"
    with anyio.move_on_after(WRITE_SECONDS, shield=True):
        for attempt in (1, 2):
            try:
                await _insert(sessions, row)
                return
            except Exception as exc:
                error = type(exc).__name__
                if attempt == 2 or not _never_sent(exc):
                    break
    event = {k: str(v) for k, v in row.items()}
    log.error("audit event not written", extra={"event": event, "error": error})


async def _insert(sessions: async_sessionmaker[AsyncSession], row: Mapping[str, Any]) -> None:
    async with sessions() as session:
        # One statement is its own transaction: autocommit spares a BEGIN and a COMMIT round trip
        # on every call (PostgreSQL: 1.03 -> 0.82 ms an event).
        connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        await connection.execute(_insert_event(), dict(row))


def _never_sent(exc: Exception) -> bool:
    """A pooled connection the database had closed while it idled (a restart): asyncpg refuses it before
    sending anything, so the row was certainly not written and trying again on a new connection (the pool
    drops the dead ones) cannot write it twice. A connection lost during the INSERT is not retried."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError) and exc.connection_invalidated and "connection is closed" in str(exc)


# ---- reading it back (`outlay audit`) --------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    company: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    name: str | None = None
    outcome: str | None = None
    subject: str | None = None
    limit: int = 100


async def events(session: AsyncSession, query: AuditQuery) -> Sequence[CallEvent]:
    """The newest events matching every given filter, newest first."""
    from sqlalchemy import select

    from server.db.models import CallEvent

    conditions = [
        column == value
        for column, value in (
            (CallEvent.company, query.company),
            (CallEvent.name, query.name),
            (CallEvent.outcome, query.outcome),
            (CallEvent.subject, query.subject),
        )
        if value is not None
    ]
    if query.since is not None:
        conditions.append(CallEvent.at >= query.since)
    if query.until is not None:
        conditions.append(CallEvent.at < query.until)
    statement = select(CallEvent).where(*conditions).order_by(CallEvent.id.desc()).limit(query.limit)
    return (await session.scalars(statement)).all()


def as_json(event: CallEvent, changed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": utc(event.at).isoformat(),
        "subject": event.subject,
        "company": event.company,
        "kind": event.kind,
        "name": event.name,
        "arguments_sha256": event.arguments_sha256,
        "outcome": event.outcome,
        "count": event.count,
        "latency_ms": event.latency_ms,
        "trace_id": event.trace_id,
        "changes": list(changed) or None,
    }


COLUMNS = ("at", "subject", "company", "kind", "name", "outcome", "count", "ms", "changes")


def table(found: Sequence[CallEvent], changed: Mapping[str, Sequence[object]]) -> str:
    """A plain-text table, one event a line; `changed` holds what each call id changed."""
    rows = [
        (
            utc(e.at).strftime("%Y-%m-%d %H:%M:%S"),
            e.subject,
            e.company or "-",
            e.kind,
            e.name,
            e.outcome,
            str(e.count),
            f"{e.latency_ms:.1f}",
            str(len(changed.get(e.call_id or "", ()))),
        )
        for e in found
    ]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(COLUMNS)]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in [COLUMNS, *rows]
    )
