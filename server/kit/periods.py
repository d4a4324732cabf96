"""Reporting periods as agents and import files name them: `2026` (year), `2026-Q3` (quarter),
`2026-07` (month). Also used by the budget resources, whose budgets are imported in the same syntax."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo, WithJsonSchema

from server.errors import InvalidArgument

PERIOD_PATTERN = r"^\d{4}(-[Qq][1-4]|-(0[1-9]|1[0-2]))?$"
PERIOD_HELP = "a year (2026), a quarter (2026-Q3) or a month (2026-07)"
_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")


# The days a caller may name: wide enough for any company's books and plans, narrow enough that the
# arithmetic around them (the day after, the year before, a forecast's history) stays within the
# calendar Python and the databases have (year 1 to 9999).
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
DAYS_HELP = f"the days this server handles: {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
YEARS_HELP = f"the years this server handles: {FIRST_DAY.year} to {LAST_DAY.year}"


def _named(info: ValidationInfo, message: str) -> str:
    return f"{info.field_name}: {message}" if info.field_name else message


def _year_number(value: Any) -> Any:
    # The instructions and descriptions write a year as 2026, and agents send it as a JSON number: a whole
    # number can only mean that year, so it is taken as one rather than refused for its JSON type. Any other
    # number (2026.5, or 2026.0, which JSON cannot tell from it) is no period.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        raise ValueError(f"{value!r} is not a period: use {PERIOD_HELP}, as a string")
    return value


def _period_text(value: str, info: ValidationInfo) -> str:
    try:
        parse_period(value)
    except InvalidArgument as exc:
        raise ValueError(_named(info, str(exc))) from None
    return value.strip()


def _supported_day(value: dt.date, info: ValidationInfo) -> dt.date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(_named(info, f"{value.isoformat()} is outside {DAYS_HELP}"))
    return value


# A tool argument naming a period: checked with a message written for the model; the pattern is also
# advertised in the schema, and a year may come as a JSON number.
PeriodText = Annotated[
    str,
    BeforeValidator(_year_number),
    AfterValidator(_period_text),
    WithJsonSchema({"type": ["string", "integer"], "pattern": PERIOD_PATTERN}),
]
# A tool argument naming a day (YYYY-MM-DD), between FIRST_DAY and LAST_DAY.
Day = Annotated[dt.date, AfterValidator(_supported_day)]


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str


def parse_period(text: str) -> Period:
    match = _PERIOD.match(text.strip().upper())
    if match is None:
        raise InvalidArgument(f"{text!r} is not a period: use {PERIOD_HELP}")
    year = int(match["year"])
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise InvalidArgument(f"{text.strip()!r} is outside {YEARS_HELP}")
    if match["quarter"]:
        first_month = 3 * int(match["quarter"]) - 2
        return Period(dt.date(year, first_month, 1), _month_end(year, first_month + 2), text.strip().upper())
    if match["month"]:
        month = int(match["month"])
        return Period(dt.date(year, month, 1), _month_end(year, month), f"{year}-{month:02d}")
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))


def month_to_date(today: dt.date) -> Period:
    return Period(today.replace(day=1), today, f"{today:%Y-%m} to date ({today.isoformat()})")


def date_range(start: dt.date, end: dt.date) -> Period:
    """A free range, labelled like a named period when it is one (the whole of July → 2026-07)."""
    return Period(start, end, period_label(start, end))


def period_label(start: dt.date, end: dt.date) -> str:
    if start.day == 1 and end == _month_end(end.year, end.month) and start.year == end.year:
        months = end.month - start.month + 1
        if months == 12:
            return str(start.year)
        if months == 3 and start.month % 3 == 1:
            return f"{start.year}-Q{start.month // 3 + 1}"
        if months == 1:
            return f"{start:%Y-%m}"
    return f"{start.isoformat()}..{end.isoformat()}"


def months_in(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    """Every (year, month) the range touches, in order."""
    first, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    return [(index // 12, index % 12 + 1) for index in range(first, last + 1)]


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def asked_period(
    period: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    *,
    default_end: dt.date | None = None,
) -> Period | None:
    """The period a tool's `period` / `date_from` / `date_to` arguments name; None when none is given.
    `default_end` stands in for a missing date_to (else date_to is required with date_from)."""
    if period and (date_from or date_to):
        raise InvalidArgument("pass either period or date_from/date_to, not both")
    if period:
        return parse_period(period)
    if date_from is None and date_to is None:
        return None
    if date_from is None:
        raise InvalidArgument("date_to needs a date_from as well (or pass a period such as 2026-Q3)")
    end = date_to or default_end
    if end is None:
        raise InvalidArgument("date_from needs a date_to as well (or pass a period such as 2026-Q3)")
    if date_from > end:
        raise InvalidArgument(
            f"date_from {date_from.isoformat()} is after date_to {end.isoformat()}"
            + ("" if date_to else " (today, the default)")
        )
    return date_range(date_from, end)


DateRange = tuple[dt.date, dt.date]  # both inclusive


@dataclass(frozen=True)
class PeriodSplit:
    """A period as its whole calendar months (the first days of the first and the last one; None when it
    holds no whole month) and the days left over at either edge, which the months do not cover."""

    months: DateRange | None
    edges: tuple[DateRange, ...]


def split_period(start: dt.date, end: dt.date) -> PeriodSplit:
    """The monthly rollup answers the whole months; the expenses answer the edges."""
    day = dt.timedelta(days=1)
    first = start if start.day == 1 else (start.replace(day=28) + 4 * day).replace(day=1)
    stop = (end + day).replace(day=1)  # the day after the whole months
    if first >= stop:
        return PeriodSplit(None, ((start, end),))
    edges = tuple((a, b) for a, b in ((start, first - day), (stop, end)) if a <= b)
    return PeriodSplit((first, (stop - day).replace(day=1)), edges)
