"""One month of company spending at a time, in date order, so the writer can stream it to disk.

Stages may create charges dated later than the month they run in (a trip booked now happens next
month, a refund comes weeks later); those wait in a per-month bucket until their month is written.
Nothing is ever dated before the month being generated, so streaming month by month is safe.
"""

from __future__ import annotations

from operator import attrgetter

from server.demo.everyday import laptop_schedule, laptops_month, personal_month, team_month
from server.demo.memos import Memos
from server.demo.merchants import MERCHANTS
from server.demo.model import Org, Spend
from server.demo.shop import Shop
from server.demo.subscriptions import bill_month, headcounts, sign_contracts
from server.demo.timeline import Month, Window, rng_for
from server.demo.travel import conferences_month, trips_month
from server.demo.world import World

_FAST_GROWING = frozenset({"sales", "marketing", "engineering", "hardware", "ops"})
DRIFTING_FROM = 0.02  # monthly drift from which a team is one of those trending over budget


def choose_drift(seed: int, org: Org) -> dict[str, float]:
    """Monthly growth of each team's spending beyond its headcount. About a quarter of the teams
    grow 2-3.5% a month: their budgets, planned from past spend, fall behind (over budget)."""
    rng = rng_for(seed, "drift")
    candidates = [t.name for t in org.teams if t.parent is not None and t.profile in _FAST_GROWING]
    fast = set(rng.sample(candidates, min(len(candidates), max(1, round(len(org.teams) * 0.25)))))
    return {
        t.name: rng.uniform(DRIFTING_FROM, 0.035) if t.name in fast else rng.uniform(-0.002, 0.005)
        for t in org.teams
    }


class SpendEngine:
    def __init__(self, seed: int, org: Org, window: Window) -> None:
        rng = rng_for(seed, "spend")
        shop = Shop(rng, MERCHANTS)
        self.world = World(org, window, shop, Memos(seed, rng), rng, choose_drift(seed, org))
        self._contracts = sign_contracts(self.world)
        self._laptops = laptop_schedule(self.world)
        self._later: dict[int, list[Spend]] = {}

    def month(self, month: Month) -> list[Spend]:
        """Every charge dated in `month`, sorted by date (ties keep generation order)."""
        world, org = self.world, self.world.org
        for person in org.people:
            personal_month(world, person, month)
            trips_month(world, person, month)
        for team in org.teams:
            team_month(world, team.name, month)
        laptops_month(world, month, self._laptops.get(month.index, []))
        conferences_month(world, month)
        bill_month(world, self._contracts, month, headcounts(org, month))
        for spend in world.out:
            index = world.window.month_index(spend.date)
            if index < month.index:
                raise AssertionError(f"charge dated {spend.date} generated after its month was written")
            self._later.setdefault(index, []).append(spend)
        world.out.clear()
        spends = self._later.pop(month.index, [])
        spends.sort(key=attrgetter("date"))
        return spends
