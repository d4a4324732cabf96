"""A prompt's arguments, checked and resolved against the caller's company the way the tools do it, with
messages that name the argument: "team: no team named 'Mktg'; did you mean 'Marketing'?"."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from server.errors import InvalidArgument, OutlayError
from server.kit.money import MoneyError, format_amount, normalize_currency, to_minor
from server.kit.periods import DAYS_HELP, FIRST_DAY, LAST_DAY, Period, parse_period

if TYPE_CHECKING:
    from server.calls import CallScope
    from server.db.models import Category, Employee, Team

SINCE_HELP = "a date YYYY-MM-DD (2026-10-01) or a period, from its first day (2026-10, 2026-Q3, 2026)"
MAX_DESCRIPTION = 2000


@contextmanager
def about(argument: str) -> Iterator[None]:
    """Domain errors inside name the argument they are about."""
    try:
        yield
    except OutlayError as exc:
        raise type(exc)(f"{argument}: {exc}") from None


def period(text: str) -> Period:
    with about("period"):
        return parse_period(text)


def previous(span: Period) -> Period:
    """The period before a named one: the previous month, quarter or year."""
    before = span.start - dt.timedelta(days=1)
    if span.label.isdigit():
        return parse_period(str(before.year))
    if "Q" in span.label:
        return parse_period(f"{before.year}-Q{(before.month + 2) // 3}")
    return parse_period(f"{before:%Y-%m}")


def compared(span: Period, today: dt.date) -> Period:
    """What a period is compared with: the whole previous period, or while this one is still running,
    as many days from the previous period's start (November 1-20 against October 1-20)."""
    before = previous(span)
    if today >= span.end or today < span.start:
        return before
    end = before.start + (today - span.start)
    if end >= before.end:  # March 30 against all of February
        return before
    return Period(before.start, end, f"the first {(end - before.start).days + 1} days of {before.label}")


def since(text: str) -> dt.date:
    """A start date, given as a date or as the period it opens."""
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidArgument(f"since: {value!r} is not a date: use {SINCE_HELP}") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidArgument(f"since: {value!r} is outside {DAYS_HELP}")
        return day
    try:
        return parse_period(value).start
    except InvalidArgument:
        raise InvalidArgument(f"since: {value!r} is neither a date nor a period: use {SINCE_HELP}") from None


async def team(call: CallScope, text: str) -> Team:
    from server.kit.resolve import resolve_team  # SQLAlchemy loads with the first call

    with about("team"):
        return await resolve_team(call.session, call.caller.company_id, text)


async def employee(call: CallScope, argument: str, text: str) -> Employee:
    from server.kit.resolve import resolve_employee  # SQLAlchemy loads with the first call

    with about(argument):
        return await resolve_employee(call.session, call.caller.company_id, text)


async def category(call: CallScope, text: str) -> Category:
    from server.kit.resolve import resolve_category  # SQLAlchemy loads with the first call

    with about("category"):
        return await resolve_category(call.session, call.caller.company_id, text)


def currency(text: str) -> str:
    try:
        return normalize_currency(text)
    except MoneyError as exc:
        raise InvalidArgument(f"currency: {exc}; use an ISO 4217 code such as EUR or USD") from None


def amount(text: str, code: str) -> str:
    """An amount as suggest_approver takes it: positive, with the currency's digits ("8400.00")."""
    try:
        minor = to_minor(text, code)
    except MoneyError as exc:
        raise InvalidArgument(f"amount: {exc}") from None
    if minor <= 0:
        raise InvalidArgument(f"amount: must be positive, got {text.strip()}")
    return format_amount(minor, code)


def description(text: str) -> str:
    """Free text the user wrote about the purchase: one line, bounded."""
    flat = " ".join(text.split())
    if len(flat) > MAX_DESCRIPTION:
        raise InvalidArgument(f"description: at most {MAX_DESCRIPTION} characters, got {len(flat)}")
    return flat
