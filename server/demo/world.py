"""Everything the spending stages share: the org, the calendar, the shop, and the output buffer."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from server.demo.memos import Memos
from server.demo.model import Org, Person, Spend
from server.demo.shop import Shop
from server.demo.timeline import SEASON, Month, Window


@dataclass(slots=True)
class World:
    org: Org
    window: Window
    shop: Shop
    memos: Memos
    rng: random.Random
    # Monthly growth of a team's spending on top of its headcount: the teams that trend over budget.
    drift: dict[str, float]
    out: list[Spend] = field(default_factory=list)
    # Booked but dated after `today` (next month's trip, a stand at a coming fair): not an expense
    # yet, but its pre-approval request may already be in the history.
    upcoming: list[Spend] = field(default_factory=list)

    def emit(self, spend: Spend) -> None:
        """Record a charge (and, now and then, its later refund). Nothing after `today` is an expense."""
        if not spend.person.employed_on(spend.date):
            return
        if spend.date > self.window.today:
            self.upcoming.append(spend)
            return
        self.out.append(spend)
        refund = self.shop.maybe_refund(spend, self.window.today)
        if refund is not None:
            self.out.append(refund)

    def drift_factor(self, team: str, month: Month) -> float:
        return 1.0 + self.drift.get(team, 0.0) * month.index

    def pace(self, team: str, month: Month) -> float:
        """Season times drift: how busy a team is this month relative to its usual rate."""
        return SEASON[month.first.month - 1] * self.drift_factor(team, month)

    def active_span(
        self, person: Person, month: Month, ahead: bool = False
    ) -> tuple[dt.date, dt.date] | None:
        first = max(month.first, person.start)
        month_last = month.end if ahead else month.last
        last = min(month_last, person.end) if person.end else month_last
        return (first, last) if first <= last else None

    def work_day(self, first: dt.date, last: dt.date) -> dt.date:
        """A day in [first, last], mostly a weekday and rarely in the Christmas break."""
        span = (last - first).days
        day = first
        for _ in range(3):
            day = first + dt.timedelta(days=self.rng.randint(0, span))
            if day.weekday() < 5 and not (day.month == 12 and day.day > 22):
                return day
        return day
