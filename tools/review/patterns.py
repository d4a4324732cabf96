"""Patterns found between expenses, with or without a policy: duplicates, split purchases, round-number
runs and refunds without a charge. docs/review.md gives each exact definition.

Each looks at one flagged expense (a candidate) at a time and at what came before it in the history:
the flagged expense is always the latest one of its finding, so a period's review needs the history
before the period only, and two periods' reviews never report the same finding.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cache
from itertools import pairwise
from operator import attrgetter
from typing import TypeVar

from server.kit.money import currency_exponent
from tools.review.amounts import expense_lines, in_company_minor, shown
from tools.review.findings import (
    ChargeDay,
    Finding,
    ReviewContext,
    ReviewedExpense,
    Threshold,
    charge_days,
    same_charge,
)

# A repeat this small is a habit, not a duplicate (the same coffee every morning), in whole units of the
# company currency; a repeat by someone else must also be at least CROSS_PAYER_FLOOR and have the same
# statement descriptor, since two people paying the same amount at a busy merchant happens by chance.
DUPLICATE_FLOOR = 20
CROSS_PAYER_FLOOR = 100
PRICE_LIST = 3  # this many charges of one amount at one merchant within the window: a price, not a repeat
RECURRING_DAYS = (20, 40)  # the same charge this many days earlier: last month's bill of a subscription
SPLIT_PART_SHARE = Fraction(1, 5)  # a split's parts are each at least this share of the threshold
K = TypeVar("K", bound=Hashable)


def payer(expense: ReviewedExpense) -> str:
    """Who paid: the employee; without one the card; without either the team."""
    if expense.employee:
        return expense.employee
    return f"card {expense.card}" if expense.card else f"team {expense.team}"


# (spent_on, id): the review's order; attrgetter sorts a month of a large company in C, not in Python.
order: Callable[[ReviewedExpense], tuple[dt.date, int]] = attrgetter("spent_on", "id")
_day: Callable[[ReviewedExpense], dt.date] = attrgetter("spent_on")


def by_key(
    expenses: Sequence[ReviewedExpense], key: Callable[[ReviewedExpense], K]
) -> defaultdict[K, list[ReviewedExpense]]:
    """The expenses (oldest first, as the engine's history is) grouped by `key`, each group in order (the
    windows below bisect them)."""
    groups: defaultdict[K, list[ReviewedExpense]] = defaultdict(list)
    for expense in expenses:
        groups[key(expense)].append(expense)
    return groups


@cache
def exponent(currency: str) -> int:
    return currency_exponent(currency)


def _before(group: list[ReviewedExpense], expense: ReviewedExpense, days: int) -> list[ReviewedExpense]:
    """The group's (in order) expenses from `days` before `expense` up to it (itself excluded), oldest
    first. Bisected: a busy merchant's group scanned once per charge made a month's review quadratic."""
    start = expense.spent_on - dt.timedelta(days=days)
    return group[bisect_left(group, start, key=_day) : bisect_left(group, order(expense), key=order)]


def _dated(group: list[ReviewedExpense], start: dt.date, end: dt.date) -> list[ReviewedExpense]:
    """The group's (in order) expenses from `start` to `end`, both included, oldest first."""
    return group[bisect_left(group, start, key=_day) : bisect_right(group, end, key=_day)]


def _major(units: int, currency: str) -> int:
    return int(units * 10 ** exponent(currency))


def duplicate_floor(currency: str) -> int:
    """The smallest charge that can be a duplicate, in minor units of the company currency."""
    return _major(DUPLICATE_FLOOR, currency)


def cross_payer_floor(currency: str) -> int:
    """The smallest charge that can be a duplicate of another payer's, in minor units of the company
    currency."""
    return _major(CROSS_PAYER_FLOOR, currency)


# ---- duplicates ----------------------------------------------------------------------------------------


def duplicates(
    candidates: Sequence[ReviewedExpense], history: Sequence[ReviewedExpense], context: ReviewContext
) -> Iterator[Finding]:
    charges = [e for e in history if e.amount_minor > 0]
    keys, receipts = _shared_receipts(charges)
    floor = _major(DUPLICATE_FLOOR, context.company_currency)
    # A smaller charge is no duplicate, and charges of one amount are all above the floor or all below it.
    same_charges = by_key([e for e in charges if e.amount_minor >= floor], same_charge)
    window = context.policy.patterns.duplicates.window_days
    # Only a charge with a shared receipt, or with a charge of its merchant and amount in the window before
    # it, can be a duplicate: the others (most of them) are not looked at one by one.
    repeated = _repeats(same_charges, window)
    for expense in sorted((e for e in candidates if e.id in repeated or e.id in keys), key=order):
        if expense.amount_minor <= 0:
            continue
        receipt = keys.get(expense.id)
        earlier = [e for e in receipts[receipt] if order(e) < order(expense)] if receipt else []
        if earlier:
            yield _same_receipt(expense, earlier[0], context)
            continue
        group = same_charges.get(same_charge(expense))
        if group is None or (len(group) == 1 and group[0].id == expense.id):  # no other such charge
            continue
        original = _repeated(expense, group, window, context)
        if original is not None:
            yield _repeat(expense, original, window, context)


def _repeats(groups: Mapping[K, list[ReviewedExpense]], window: int) -> set[int]:
    """The charges (by id) with an earlier one of their group (in order) at most `window` days before: those
    whose `_before` is not empty. Each group's neighbours compared once: a team's quarter sent 2,500
    charges of repeated amounts through `_repeated` and 3,600 large ones through `_parts`, most with no
    such charge in the window."""
    return {
        later.id
        for group in groups.values()
        if len(group) > 1
        for earlier, later in pairwise(group)
        if (later.spent_on - earlier.spent_on).days <= window
    }


def _shared_receipts(
    charges: list[ReviewedExpense],
) -> tuple[dict[int, str], dict[str, list[ReviewedExpense]]]:
    """The receipts (ids trimmed, without case) that more than one charge carries: each such charge's
    receipt by its id, and each receipt's charges in order. Every expense of the large demo company has
    a receipt id, all but a few their own: grouping them all cost a month's review a sixth of its time."""
    # map and filter, not comprehensions: the keys of a month's 95,000 receipts made in C.
    keys = list(map(str.casefold, map(str.strip, filter(None, map(_receipt_id, charges)))))
    ids: dict[int, str] = {}
    groups: defaultdict[str, list[ReviewedExpense]] = defaultdict(list)
    if len(set(keys)) == len(keys):  # each its own: a month's 82,000 checked in 21 ms, not 33
        return ids, groups
    with_ids = [e for e in charges if e.receipt_id]  # in the order of `keys`
    counts = Counter(keys)
    shared = {key for key, count in counts.items() if count > 1 and key}
    for key, expense in zip(keys, with_ids, strict=True):
        if key in shared:
            ids[expense.id] = key
            groups[key].append(expense)
    return ids, groups


_receipt_id: Callable[[ReviewedExpense], str] = attrgetter("receipt_id")


def _repeated(
    expense: ReviewedExpense, group: list[ReviewedExpense], window: int, context: ReviewContext
) -> ReviewedExpense | None:
    """The charge `expense` repeats, if it is a duplicate (docs/review.md)."""
    currency = context.company_currency
    if expense.amount_minor < _major(DUPLICATE_FLOOR, currency):
        return None
    recent = _before(group, expense, window)
    if not recent or _price(expense, group, window) or _recurring(expense, group):
        return None
    original = recent[-1]
    if payer(original) == payer(expense):
        return original
    same_text = " ".join(original.descriptor.casefold().split()) == " ".join(
        expense.descriptor.casefold().split()
    )
    return original if same_text and expense.amount_minor >= _major(CROSS_PAYER_FLOOR, currency) else None


def _price(expense: ReviewedExpense, group: list[ReviewedExpense], window: int) -> bool:
    """PRICE_LIST or more of the same charge from `window` days before to `window` days after: what the
    merchant charges everyone (a ticket, a seat), not a repeat."""
    start, end = expense.spent_on - dt.timedelta(days=window), expense.spent_on + dt.timedelta(days=window)
    return len(_dated(group, start, end)) >= PRICE_LIST


def _recurring(expense: ReviewedExpense, group: list[ReviewedExpense]) -> bool:
    """The same payer or team had the same charge 20 to 40 days before: a subscription's bill."""
    low, high = (expense.spent_on - dt.timedelta(days=d) for d in reversed(RECURRING_DAYS))
    return any(payer(e) == payer(expense) or e.team == expense.team for e in _dated(group, low, high))


def _same_receipt(expense: ReviewedExpense, original: ReviewedExpense, context: ReviewContext) -> Finding:
    return Finding(
        kind="duplicate",
        rule=None,
        severity="high",
        reason=f"{expense.ref} carries the same receipt ({expense.receipt_id}) as {original.ref}: one "
        "receipt claimed twice.",
        expense_ids=(expense.id, original.id),
        amount_minor=expense.amount_minor,
        evidence={
            "receipt_id": str(expense.receipt_id),
            "expenses": expense_lines([expense, original], context.company_currency),
        },
        action=f"Hold {expense.ref}: ask the spender(s) which expense the receipt belongs to, and reject "
        "or recover the other.",
    )


def _repeat(
    expense: ReviewedExpense, original: ReviewedExpense, window: int, context: ReviewContext
) -> Finding:
    days = (expense.spent_on - original.spent_on).days
    when = "the same day" if days == 0 else f"{days} day{'s' * (days > 1)} later"
    who = (
        "by the same payer"
        if payer(original) == payer(expense)
        else f"by {payer(expense)} (first: {payer(original)})"
    )
    amount = shown(expense.original_minor, expense.currency)
    return Finding(
        kind="duplicate",
        rule=None,
        severity="high",
        reason=f"{expense.ref} charges {amount} at {expense.merchant} again, {when} {who}, as {original.ref} "
        "did: a duplicate charge or claim?",
        expense_ids=(expense.id, original.id),
        amount_minor=expense.amount_minor,
        evidence={
            "same": "merchant, amount and currency" + (", descriptor" if who != "by the same payer" else ""),
            "window": f"within {window} days ({days} apart)",
            "expenses": expense_lines([expense, original], context.company_currency),
        },
        action=f"Check with the merchant or the spender whether {expense.ref} was charged twice; reject "
        "or recover it if so.",
    )


# ---- split purchases -----------------------------------------------------------------------------------


def split_purchases(
    candidates: Sequence[ReviewedExpense], history: Sequence[ReviewedExpense], context: ReviewContext
) -> Iterator[Finding]:
    settings = context.policy.patterns.split_purchases
    limits = _split_limits(context)
    if not limits:
        return
    # A part is at least SPLIT_PART_SHARE of the smallest threshold: the least such amount, in whole minor
    # units, compared inline (a function call per expense cost more than the splits themselves).
    share = SPLIT_PART_SHARE
    least = _ceil(Fraction(min(limit.minor for limit, _ in limits) * share.numerator, share.denominator))
    groups = by_key([e for e in history if e.amount_minor >= least], lambda e: (payer(e), e.merchant_id))
    # A split's last part has an earlier one within the window: only those charges are looked at.
    after_another = _repeats(groups, settings.window_days)
    for expense in sorted((e for e in candidates if e.id in after_another), key=order):
        window = _before(groups[payer(expense), expense.merchant_id], expense, settings.window_days)
        for limit, named in limits:
            if limit.categories is not None and expense.category not in limit.categories:
                continue
            parts = _parts(window, expense, limit)
            if parts is not None:
                yield _split(parts, limit, named, settings.window_days, context)
                break


def _split_limits(context: ReviewContext) -> list[tuple[Threshold, str]]:
    """The thresholds a split may dodge, largest first: the policy's own or the approval policy's, and the
    card limit."""
    settings, currency = context.policy.patterns.split_purchases, context.company_currency
    found: list[tuple[Threshold, str]] = []
    if settings.thresholds is not None:
        for amount in settings.thresholds:
            minor = _ceil(in_company_minor(context, amount))
            found.append(
                (Threshold(minor, label="policy"), f"the approval threshold {shown(minor, currency)}")
            )
    else:
        for limit in context.approval_thresholds():
            found.append((limit, f"the {limit.label} threshold {shown(limit.minor, currency)}"))
    if settings.card_limit is not None:
        minor = _ceil(in_company_minor(context, settings.card_limit))
        found.append((Threshold(minor + 1, label="card limit"), f"the card limit {shown(minor, currency)}"))
    return sorted(found, key=lambda item: -item[0].minor)


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


def _parts(
    window: list[ReviewedExpense], expense: ReviewedExpense, limit: Threshold
) -> list[ReviewedExpense] | None:
    """The split's parts when `expense` is the charge that takes them over `limit` (None otherwise)."""

    def part(e: ReviewedExpense) -> bool:
        share = SPLIT_PART_SHARE
        large_enough = e.amount_minor * share.denominator >= limit.minor * share.numerator
        return (
            large_enough
            and e.amount_minor < limit.minor
            and (limit.categories is None or e.category in limit.categories)
        )

    if not part(expense):
        return None
    earlier = [e for e in window if part(e)]
    before = sum(e.amount_minor for e in earlier)
    if not earlier or before >= limit.minor or before + expense.amount_minor < limit.minor:
        return None
    return [expense, *reversed(earlier)]


def _split(
    parts: list[ReviewedExpense], limit: Threshold, named: str, window: int, context: ReviewContext
) -> Finding:
    total, currency = sum(e.amount_minor for e in parts), context.company_currency
    first, last = parts[-1].spent_on, parts[0].spent_on
    return Finding(
        kind="split_purchase",
        rule=None,
        severity="high",
        reason=f"{len(parts)} charges at {parts[0].merchant} by {payer(parts[0])} between "
        f"{first.isoformat()} and {last.isoformat()} each stay under {named} but add up to "
        f"{shown(total, currency)}: one purchase split to avoid it?",
        expense_ids=tuple(e.id for e in parts),
        amount_minor=total,
        evidence={
            "threshold": named,
            "total": shown(total, currency),
            "largest_part": shown(max(e.amount_minor for e in parts), currency),
            "window": f"within {window} days",
            "expenses": expense_lines(parts, currency),
        },
        action="Ask the spender whether this was one purchase; if so, it needs the approval it avoided.",
    )


# ---- round-number runs ---------------------------------------------------------------------------------


def round_numbers(
    candidates: Sequence[ReviewedExpense], history: Sequence[ReviewedExpense], context: ReviewContext
) -> Iterator[Finding]:
    settings = context.policy.patterns.round_numbers
    steps = _Steps(settings.multiple)
    # Inline, not a function per expense: every expense of the history is tested (95,000 for a month).
    rounds = [e for e in history if e.original_minor > 0 and e.original_minor % steps[e.currency] == 0]
    if not rounds:  # a run (min_run >= 2) has an earlier round amount in the history
        return
    groups = by_key(rounds, lambda e: (payer(e), e.merchant_id))
    # A run's last charge has an earlier round amount within the window (min_run >= 2).
    after_another = _repeats(groups, settings.window_days)
    for expense in sorted((e for e in candidates if e.id in after_another), key=order):
        earlier = _before(groups[payer(expense), expense.merchant_id], expense, settings.window_days)
        if len(earlier) + 1 == settings.min_run:  # the charge that makes the run: one finding per run
            yield _run([expense, *reversed(earlier)], settings.multiple, settings.window_days, context)


class _Steps(dict[str, int | Fraction]):
    """Each currency's step of `multiple` units in its minor units (`_step`), computed once."""

    def __init__(self, multiple: Decimal) -> None:
        super().__init__()
        self._multiple = multiple

    def __missing__(self, currency: str) -> int | Fraction:
        step = self[currency] = _step(self._multiple, currency)
        return step


@cache
def _step(multiple: Decimal, currency: str) -> int | Fraction:
    """`multiple` units of `currency` in its minor units (a fraction for a multiple finer than them)."""
    step = Fraction(multiple) * 10 ** exponent(currency)
    return int(step.numerator) if step.denominator == 1 else step


def _run(run: list[ReviewedExpense], multiple: Decimal, window: int, context: ReviewContext) -> Finding:
    currency = context.company_currency
    total = sum(e.amount_minor for e in run)
    return Finding(
        kind="round_numbers",
        rule=None,
        severity="low",
        reason=f"{len(run)} round amounts (multiples of {multiple}) at {run[0].merchant} by {payer(run[0])} "
        f"within {window} days: invented or estimated amounts?",
        expense_ids=tuple(e.id for e in run),
        amount_minor=total,
        evidence={
            "multiple_of": f"{multiple} (in each expense's own currency)",
            "run": f"{len(run)} within {window} days",
            "expenses": expense_lines(run, currency),
        },
        action="Ask for the receipts or invoices behind these amounts.",
    )


# ---- refunds without a charge --------------------------------------------------------------------------


def refunds(
    candidates: Sequence[ReviewedExpense], history: Sequence[ReviewedExpense], context: ReviewContext
) -> Iterator[Finding]:
    lookback = context.policy.patterns.refunds.lookback_days
    uncovered = context.uncovered_refunds
    if uncovered is not None:  # the service's query answered for each refund of the scope
        for expense in sorted((e for e in candidates if e.id in uncovered), key=order):
            yield _refund(expense, lookback, uncovered[expense.id], context)
        return
    # A context built without it (the engine's tests): the history's charges summarized.
    days_by_merchant = charge_days(e for e in history if e.amount_minor > 0)
    yield from _refunds_by_day(candidates, days_by_merchant, lookback, context)


def _refunds_by_day(
    candidates: Sequence[ReviewedExpense],
    charges: Mapping[int, tuple[ChargeDay, ...]],
    lookback: int,
    context: ReviewContext,
) -> Iterator[Finding]:
    """Each refund against the charges summarized per day and currency: is one at least as large, and how
    many are there (what `queries.uncovered_refunds` answers in SQL)."""
    for expense in sorted(candidates, key=order):
        if expense.amount_minor >= 0:
            continue
        days = charges.get(expense.merchant_id, ())
        start = expense.spent_on - dt.timedelta(days=lookback)
        earlier = days[
            bisect_left(days, start, key=_charge_day) : bisect_right(days, expense.spent_on, key=_charge_day)
        ]
        covered = any(
            day.largest_original_minor >= -expense.original_minor
            if day.currency == expense.currency
            else day.largest_minor >= -expense.amount_minor
            for day in earlier
        )
        if not covered:
            yield _refund(expense, lookback, sum(day.charges for day in earlier), context)


_charge_day: Callable[[ChargeDay], dt.date] = attrgetter("spent_on")


def _refund(expense: ReviewedExpense, lookback: int, charges: int, context: ReviewContext) -> Finding:
    currency = context.company_currency
    found = "no charge" if charges == 0 else f"{charges} smaller charge{'s' * (charges > 1)} only"
    return Finding(
        kind="refund_without_charge",
        rule=None,
        severity="medium",
        reason=f"{expense.ref} is a refund of {shown(-expense.amount_minor, currency)} from "
        f"{expense.merchant}, but the company has {found} there in the {lookback} days before it.",
        expense_ids=(expense.id,),
        amount_minor=expense.amount_minor,
        evidence={
            "lookback": f"{lookback} days",
            "charges_at_merchant": str(charges),
            "expenses": expense_lines([expense], currency),
        },
        action="Find the original charge (perhaps on another card or before the lookback); make sure the "
        "refund reached the company, not a private account.",
    )
