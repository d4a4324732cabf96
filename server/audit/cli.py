"""`outlay audit`: the trail of MCP calls, filtered, as a table or JSON (server/audit/trail.py writes it).

Kept free of heavy imports: the command line builds every parser at start-up."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

from server.settings import Settings

if TYPE_CHECKING:
    from server.audit.trail import AuditQuery


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--company", help="company slug")
    parser.add_argument(
        "--since", type=_moment, help="from this time (YYYY-MM-DD or ISO 8601; UTC if no zone)"
    )
    parser.add_argument("--until", type=_until, help="up to this time; a date includes the whole day")
    parser.add_argument("--tool", help="tool, prompt or resource name")
    parser.add_argument(
        "--outcome", help="ok, rejected, not_found, invalid_arguments, timeout, unavailable or error"
    )
    parser.add_argument("--subject", help="who called (a token's subject; `local` over stdio)")
    parser.add_argument("--limit", type=int, default=100, help="most events to show, newest first (100)")
    parser.add_argument("--json", action="store_true", help="one JSON array, with each write's changes")
    parser.set_defaults(command=cmd_audit)


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from server.audit.trail import AuditQuery

    query = AuditQuery(
        company=args.company,
        since=args.since,
        until=args.until,
        name=args.tool,
        outcome=args.outcome,
        subject=args.subject,
        limit=args.limit,
    )
    try:
        print(asyncio.run(_render(settings, query, as_json=args.json)))
    except UnknownCompany as exc:
        print(f"outlay: {exc}", file=sys.stderr)
        return 1
    return 0


class UnknownCompany(Exception):
    """--company names no loaded company, and no audited call either: a typo, not an empty trail."""


async def _render(settings: Settings, query: AuditQuery, *, as_json: bool) -> str:
    from server.audit import changes
    from server.audit import trail as audit
    from server.db.engine import create_engine, create_session_factory
    from server.db.schema import ensure_schema
    from server.db.tenancy import loaded_slugs

    engine = create_engine(settings.database_url)
    try:
        await ensure_schema(engine)
        async with create_session_factory(engine)() as session:
            found = await audit.events(session, query)
            if query.company and not found and query.company not in (slugs := await loaded_slugs(session)):
                raise UnknownCompany(_unknown(query.company, slugs))
            changed = await changes.of_calls(session, [e.call_id for e in found if e.call_id])
    finally:
        await engine.dispose()
    if as_json:
        events = [audit.as_json(e, changed.get(e.call_id or "", [])) for e in found]
        return json.dumps(events, indent=2, ensure_ascii=False)
    return audit.table(found, changed)


def _unknown(company: str, slugs: list[str]) -> str:
    loaded = f"the companies are: {', '.join(slugs)}" if slugs else "no company is loaded"
    return f"no company with slug {company!r} is loaded, and no audited call named it; {loaded}"


def _moment(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or time: {value!r}") from None
    # Stored times are UTC (SQLite keeps them without a zone): compare in UTC.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _until(value: str) -> dt.datetime:
    moment = _moment(value)
    is_date = len(value) == len("YYYY-MM-DD")
    return moment + dt.timedelta(days=1) if is_date else moment
