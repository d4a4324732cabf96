"""Anniversary renewals: a large charge seen once so far may be a yearly licence about to renew.

recurring.py believes a yearly series only once it has been charged twice, so the first renewal of a
licence comes as a surprise: last year's same period holds it, the forecast does not. Whether a charge
seen once renews is learned from the company's own history, borrowing strength across its teams: of
the large charges that were alone at their merchant and amount (the step a plan may move between
charges) until their anniversary came, the share charged again, a similar amount, around it (the
yearly cadence's tolerance). The share is shrunk toward an even chance by RENEWAL_PRIOR_WEIGHT
charges, so a company with few such cases gets mostly the prior; one whose such charges mostly did not
renew expects none (MIN_CHANCE). A forecast whose days to come hold
the anniversary of a once-seen large charge expects it with that chance (projection.py widens the
interval for the charge that may or may not come)."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tools.forecast.history import Charge, ScopeHistory, add_months
from tools.forecast.recurring import _AMOUNT_STEP, _CADENCES, Recurring

RENEWAL_DAYS = _CADENCES["yearly"][1]  # a renewal lands 350-380 days after the charge it renews
LARGE_SHARE = 0.10  # of the scope's typical month (its last year's): smaller charges are not looked at
RENEWAL_PRIOR, RENEWAL_PRIOR_WEIGHT = 0.5, 2.0  # an even chance, worth two charges
FEW_CASES = 5  # fewer cases than this: the notes say the chance is mostly the prior's
# A company whose once-seen charges mostly did not renew (a chance under this, shrunk: none of four or
# more) expects none: its calibrated errors already hold the odd one-off that came back.
MIN_CHANCE = 0.2


@dataclass(frozen=True)
class RenewalRate:
    """Of the company's once-seen large charges whose anniversary has passed, how many renewed."""

    renewed: int = 0
    cases: int = 0

    @property
    def probability(self) -> float:
        prior = RENEWAL_PRIOR * RENEWAL_PRIOR_WEIGHT
        return (self.renewed + prior) / (self.cases + RENEWAL_PRIOR_WEIGHT)

    def describe(self) -> str:
        found = (
            f"{self.renewed} of the company's {self.cases} large charges seen once renewed at their "
            f"anniversary, shrunk toward an even chance (worth {RENEWAL_PRIOR_WEIGHT:g} charges)"
        )
        if self.cases < FEW_CASES:
            found += (
                f"; too few such charges to learn from: the chance is mostly the prior's {RENEWAL_PRIOR:.0%}"
            )
        return found


@dataclass(frozen=True)
class Renewal:
    """A once-seen large charge whose anniversary falls in the days to come."""

    merchant: str
    first: dt.date  # the one charge so far
    on: dt.date  # its anniversary: when the renewal is expected
    amount_minor: int
    probability: float


def typical_month(history: ScopeHistory, as_of: dt.date) -> float:
    """The scope's spend per month over its last year (less when it is younger) up to `as_of`."""
    span = min(365, (as_of - history.first_day).days + 1)
    if span <= 0:
        return 0.0
    return history.total(as_of - dt.timedelta(days=span - 1), as_of) * 30.44 / span


def _similar(one: int, other: int) -> bool:
    return abs(one - other) <= _AMOUNT_STEP * min(one, other)


def _by_merchant(history: ScopeHistory, as_of: dt.date) -> dict[int, list[Charge]]:
    """The scope's charges that may recur and its single ones up to `as_of`, per merchant, by amount."""
    grouped: dict[int, list[Charge]] = defaultdict(list)
    # A set: a history whose windows were read apart may list a charge among both; it counts once.
    for charge in {*history.charges, *history.singles}:
        if charge.on <= as_of and charge.amount_minor > 0:
            grouped[charge.merchant_id].append(charge)
    for group in grouped.values():
        group.sort(key=lambda c: (c.amount_minor, c.on))
    return grouped


def _large(history: ScopeHistory, as_of: dt.date) -> Iterable[tuple[Charge, list[Charge]]]:
    """Each large charge up to `as_of` with the other charges at its merchant of a similar amount."""
    threshold = LARGE_SHARE * typical_month(history, as_of)
    if threshold <= 0:
        return
    for group in _by_merchant(history, as_of).values():
        amounts = [charge.amount_minor for charge in group]
        for charge in group[bisect_left(amounts, threshold) :]:
            low = bisect_left(amounts, charge.amount_minor / (1 + _AMOUNT_STEP))
            high = bisect_right(amounts, charge.amount_minor * (1 + _AMOUNT_STEP))
            others = [
                other
                for other in group[low:high]
                if other is not charge and _similar(other.amount_minor, charge.amount_minor)
            ]
            yield charge, others


def renewal_rate(histories: Sequence[ScopeHistory], as_of: dt.date) -> RenewalRate:
    """Over the histories (a company's teams): the large charges alone at their merchant and amount
    until their anniversary window opened, which closed by `as_of`, and how many renewed in it."""
    low, high = RENEWAL_DAYS
    renewed = cases = 0
    for history in histories:
        for charge, others in _large(history, as_of):
            if charge.on + dt.timedelta(days=high) > as_of:
                continue
            opens = charge.on + dt.timedelta(days=low)
            if any(other.on < opens for other in others):
                continue  # not alone before its anniversary: a repeat, or it renews another
            cases += 1
            renewed += any(other.on <= charge.on + dt.timedelta(days=high) for other in others)
    return RenewalRate(renewed, cases)


def expected_renewals(
    history: ScopeHistory,
    as_of: dt.date,
    start: dt.date,
    end: dt.date,
    recurring: Sequence[Recurring],
    rate: RenewalRate,
) -> list[Renewal]:
    """The once-seen large charges whose anniversary falls after `as_of` (and the period's start) and by
    `end`, each expected with the company's renewal chance; a charge a detected series holds is left
    to it. None when the company's charges seen once mostly did not renew (MIN_CHANCE)."""
    if rate.probability < MIN_CHANCE:
        return []
    after = max(as_of, start - dt.timedelta(days=1))
    held = {charge for series in recurring for charge in series.charges}
    found = []
    for charge, others in _large(history, as_of):
        on = add_months(charge.on, 12)
        if after < on <= end and not others and charge not in held:
            found.append(Renewal(charge.merchant, charge.on, on, charge.amount_minor, rate.probability))
    return sorted(found, key=lambda renewal: (renewal.on, -renewal.amount_minor))
