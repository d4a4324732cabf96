"""The within-period calendar: how a company's spend falls over the days of a month, learned from its
own daily history, to split an expected total over the days still to come.

A day's weight is the product of
- its kind: the day of the week, or a public holiday of the company's country (none without a country);
- its place in the month: the month's weeks (days 1-7, 8-14, 15-21, 22 to the end), each month of the
  year with its own shape shrunk towards the shape of all months (three Decembers are enough to see a
  late-December drop, one odd March is not).

Both are ratios to the month's average day, so a month's weights only split its total: the level stays
the monthly model's. Learned at company level from the complete months before the forecast's month (a
team's own days are too few), pooled over every team. Days far above the usual (a laptop refresh, a
yearly licence) count as four usual days, so that one lump does not make its weekday or week.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from tools.forecast.history import days_in_month, month_index, month_start

WEEK_ENDS = (7, 14, 21)  # the last days of a month's first three weeks; the fourth runs to its end
MIN_MONTHS = 3  # complete months of company history before a profile is learned
# A month of the year's own week counts n / (n + 1/2) after n years (a year's week: ~7 usual days), so
# three Decembers make 86% of the late-December drop and one odd March 67% of its shape.
PRIOR_DAYS = 3.5
LUMP = 4.0  # a day above this many usual days (the median day with spend) counts as this many
LATEST_START_DAY = 7  # a first month whose spend starts later than this is partial: not learned from
NOTABLE = 0.2  # a week whose factor is this far from 1 is named in the notes
MONTH_NAMES = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEK_NAMES = ("1st-7th", "8th-14th", "15th-21st", "22nd on")

Holidays = Callable[[int], frozenset[dt.date]]  # a year's public holidays


def week_of(day: dt.date) -> int:
    return sum(day.day > last for last in WEEK_ENDS)


def no_holidays(year: int) -> frozenset[dt.date]:
    return frozenset()


@dataclass(frozen=True)
class Profile:
    """Relative spend per day. The default weighs every day alike (the old even split)."""

    weekdays: tuple[float, ...] = (1.0,) * 7  # Monday first, of days that are not holidays
    holiday: float = 1.0
    weeks: Mapping[tuple[int, int], float] = field(default_factory=dict)  # (month 1-12, week 0-3); none: 1
    holidays: Holidays = no_holidays
    country: str | None = None
    months: int = 0  # complete months it was learned from
    _prefix: dict[int, list[float]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def learned(self) -> bool:
        return self.months > 0

    def weight(self, day: dt.date) -> float:
        prefix = self._month(month_index(day))
        return prefix[day.day] - prefix[day.day - 1]

    def _weigh(self, day: dt.date) -> float:
        kind = self.weekdays[day.weekday()]
        if day in self.holidays(day.year):
            kind = min(kind, self.holiday)
        return kind * self.weeks.get((day.month, week_of(day)), 1.0)

    def share(self, first: dt.date, last: dt.date) -> float:
        """The part of its month's spend that falls from `first` to `last` (one month)."""
        if last < first:
            return 0.0
        prefix = self._month(month_index(first))
        if prefix[-1] <= 0:  # nothing expected all month: count days
            return ((last - first).days + 1) / (len(prefix) - 1)
        return (prefix[last.day] - prefix[first.day - 1]) / prefix[-1]

    def days(self, first: dt.date, last: dt.date) -> float:
        """The days from `first` to `last` (one month) counted by weight: a month's add up to about its
        length, a weekend day to less than a weekday."""
        if last < first:
            return 0.0
        prefix = self._month(month_index(first))
        if prefix[-1] <= 0:
            return float((last - first).days + 1)
        return (prefix[last.day] - prefix[first.day - 1]) * (len(prefix) - 1) / prefix[-1]

    def _month(self, index: int) -> list[float]:
        prefix = self._prefix.get(index)
        if prefix is None:
            first = month_start(index)
            days = (first + dt.timedelta(days=n) for n in range(days_in_month(index)))
            prefix = self._prefix[index] = [0.0, *itertools.accumulate(map(self._weigh, days))]
        return prefix

    def describe(self, months: Iterable[int] = range(1, 13)) -> str:
        """What weighs the days, naming the weeks of `months` (1-12) that differ most."""
        if not self.learned:
            return "remaining days of a month counted alike (less than 3 months of company history by day)"
        working = sum(self.weekdays[:5]) / 5 or 1.0
        weekend = (self.weekdays[5] + self.weekdays[6]) / 2
        parts = [f"day of week (weekends {weekend / working:.2f} of a weekday)"]
        if self.country and self.holiday < working:
            parts.append(f"{self.country} public holidays ({self.holiday / working:.2f} of a weekday)")
        elif self.country:
            parts.append(f"{self.country} public holidays (spent on like weekdays here)")
        else:
            parts.append("no public holidays (the company has no country)")
        weeks = [
            f"{WEEK_NAMES[week]} of {MONTH_NAMES[month]} {factor:.2f}"
            for month in sorted(set(months))
            for week in range(4)
            for factor in [self.weeks.get((month, week), 1.0)]
            if abs(factor - 1) >= NOTABLE
        ]
        parts.append("the weeks of the month" + (f" ({', '.join(weeks)})" if weeks else ""))
        return (
            f"remaining days weighted by the company's daily spend over {self.months} months: "
            + ", ".join(parts)
        )


UNIFORM = Profile()


def learn(
    daily: Mapping[dt.date, int], before: dt.date, country: str | None, holidays: Holidays = no_holidays
) -> Profile:
    """The profile of the complete months of `daily` (spend per day) before `before`'s month."""
    months = _complete_months(daily, month_index(before))
    if len(months) < MIN_MONTHS:
        return UNIFORM
    ratios = _ratios(daily, months)
    cap = LUMP * _median([ratio for _, ratio in ratios if ratio > 0])
    ratios = [(day, min(ratio, cap)) for day, ratio in ratios]
    weekdays, holiday = _kinds(ratios, holidays)
    kinds = Profile(weekdays=weekdays, holiday=holiday, holidays=holidays)
    weeks = _weeks((day, ratio, kinds._weigh(day)) for day, ratio in ratios)
    return Profile(weekdays, holiday, weeks, holidays, country, len(months))


def _complete_months(daily: Mapping[dt.date, int], before: int) -> list[int]:
    totals: dict[int, int] = defaultdict(int)
    starts: dict[int, int] = {}
    for day, amount in daily.items():
        index = month_index(day)
        if index < before:
            totals[index] += amount
            if amount > 0:
                starts[index] = min(starts.get(index, day.day), day.day)
    months = sorted(index for index, total in totals.items() if total > 0)
    if months and starts.get(months[0], 1) > LATEST_START_DAY:
        months = months[1:]
    return months


def _ratios(daily: Mapping[dt.date, int], months: Iterable[int]) -> list[tuple[dt.date, float]]:
    """Each day of each month: its spend over the month's average day (refund days count as none)."""
    ratios: list[tuple[dt.date, float]] = []
    for index in months:
        first, length = month_start(index), days_in_month(index)
        days = [first + dt.timedelta(days=n) for n in range(length)]
        average = sum(daily.get(day, 0) for day in days) / length
        ratios.extend((day, max(daily.get(day, 0), 0) / average) for day in days)
    return ratios


def _kinds(ratios: list[tuple[dt.date, float]], holidays: Holidays) -> tuple[tuple[float, ...], float]:
    by_kind: dict[int, list[float]] = defaultdict(list)  # 0-6 the weekdays, 7 the holidays
    for day, ratio in ratios:
        by_kind[7 if day in holidays(day.year) else day.weekday()].append(ratio)
    weekdays = tuple(_mean(by_kind[kind], 1.0) for kind in range(7))
    return weekdays, _mean(by_kind[7], min(weekdays))


def _weeks(days: Iterable[tuple[dt.date, float, float]]) -> dict[tuple[int, int], float]:
    """Per (month, week): spend over what the day kinds expect, each month of the year's shrunk towards
    all months'."""
    actual: dict[tuple[int, int], float] = defaultdict(float)
    expected: dict[tuple[int, int], float] = defaultdict(float)
    for day, ratio, weight in days:
        for key in ((day.month, week_of(day)), (0, week_of(day))):
            actual[key] += ratio
            expected[key] += weight
    pooled = {week: actual[0, week] / expected[0, week] if expected[0, week] else 1.0 for week in range(4)}
    return {
        (month, week): (actual[month, week] + PRIOR_DAYS * prior) / (expected[month, week] + PRIOR_DAYS)
        for month in range(1, 13)
        for week, prior in pooled.items()
    }


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


@dataclass(frozen=True, eq=False)
class CompanyDays:
    """A company's spend per day and its country: the profile as of any day, learned once per month
    (a forecast and its backtests ask for many days of few months)."""

    daily: Mapping[dt.date, int]
    country: str | None
    holidays: Holidays = no_holidays
    _profiles: dict[int, Profile] = field(default_factory=dict, repr=False)

    def profile(self, as_of: dt.date) -> Profile:
        origin = month_index(as_of + dt.timedelta(days=1))
        if origin not in self._profiles:
            self._profiles[origin] = learn(self.daily, month_start(origin), self.country, self.holidays)
        return self._profiles[origin]
