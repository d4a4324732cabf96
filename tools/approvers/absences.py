"""The `outlay://people/absences{?date}` resource: who is out of office on a day (default: today, the
server's clock), from when until when, and who stands in for them. An assistant reads it to answer
"is anyone away?" and to see why suggest_approver sends a step to a delegate."""

# No `from __future__ import annotations`: the SDK evaluates the handler's signature.
import datetime as dt

from mcp.server import MCPServer
from pydantic import BaseModel, Field

from server.calls import resource_call
from server.context import AppContext
from server.errors import NotFound
from server.kit.periods import DAYS_HELP, FIRST_DAY, LAST_DAY
from tools.approvers.org import Org, Person

ABSENCES_URI = "outlay://people/absences{?date}"


class Delegate(BaseModel):
    email: str
    name: str
    away: bool = Field(description="Out of office that day too: the delegation passes on to their delegate.")


class Absence(BaseModel):
    email: str
    name: str
    team: str
    role: str
    away_from: dt.date = Field(description="First day out of office.")
    away_until: dt.date = Field(description="Last day out of office, inclusive.")
    delegate: Delegate | None = Field(description="Whom they delegated to; null: nobody.")
    stand_in: str | None = Field(
        description="E-mail of who acts for them that day: the first delegate, following delegates who are "
        "away too, who is in the office; null: nobody (their approvals go to their superior instead)."
    )


class AbsencesDoc(BaseModel):
    company: str
    date: dt.date
    absences: list[Absence] = Field(description="Active employees out of office that day, by name.")


def register(mcp: MCPServer[AppContext]) -> None:
    mcp.resource(ABSENCES_URI, name="absences", title="Who is out of office", mime_type="application/json")(
        absences
    )


async def absences(date: str | None = None) -> str:
    """Who is out of office on `date` (YYYY-MM-DD; default today), until when, and who stands in for them."""
    from tools.approvers import queries  # SQLAlchemy loads with the first call, not at start-up

    async with resource_call("absences") as call:
        day = call.app.clock.today() if date is None else _day(date)
        snap = await queries.snapshot(call.session, call.caller.company_id, call.caller.currency)
        doc = AbsencesDoc(company=call.caller.company_name, date=day, absences=away_on(snap.org, day))
    return doc.model_dump_json(indent=2)


def away_on(org: Org, day: dt.date) -> list[Absence]:
    away = [p for p in org.people.values() if p.active and p.away_on(day)]
    return [_absence(org, person, day) for person in sorted(away, key=lambda p: (p.name, p.email))]


def _absence(org: Org, person: Person, day: dt.date) -> Absence:
    delegate = org.people.get(person.delegate or "")
    return Absence(
        email=person.email,
        name=person.name,
        team=person.team,
        role=person.role,
        away_from=person.away_from or day,  # both are set: the person is away on `day`
        away_until=person.away_until or day,
        delegate=None
        if delegate is None
        else Delegate(email=delegate.email, name=delegate.name, away=delegate.away_on(day)),
        stand_in=_stand_in(org, person, day),
    )


def _stand_in(org: Org, person: Person, day: dt.date) -> str | None:
    """The first delegate in the office, following delegates who are away too (a loop: nobody)."""
    seen, current = {person.email}, org.people.get(person.delegate or "")
    while current is not None and current.email not in seen:
        if current.active and not current.away_on(day):
            return current.email
        seen.add(current.email)
        current = org.people.get(current.delegate or "")
    return None


def _day(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise NotFound(f"no day {text!r}: use YYYY-MM-DD, e.g. 2026-07-20") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise NotFound(f"no day {text!r}: use a day in {DAYS_HELP}")
    return day
