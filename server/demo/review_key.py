"""Every case the demo's books hold for `review_expenses`, found by a plain reading of docs/review.md.

The review's answer key must hold every expense the definitions match, not only the planted ones:
precision counts every finding outside the key as false. So the key is this module's own reading of
each rule and pattern over the written rows (straightforward, no database, nothing shared with
`tools/review/`), and the planted cases are checked to be among what it finds. It is the eval's
second implementation of the definitions: where the engine and it disagree, one of them misreads
docs/review.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from server.kit.countries import public_holidays
from server.kit.expense_policy import (
    Blocked,
    Cap,
    ExpensePolicy,
    JustBelowThreshold,
    Keywords,
    Patterns,
    ReceiptRequired,
    Rule,
    WeekendSpend,
)
from server.kit.merchants import normalize_merchant
from server.kit.money import currency_exponent

DUPLICATE_FLOOR, CROSS_PAYER_FLOOR = 2_000, 10_000  # company minor units (docs/review.md)
PRICE_LIST = 3
RECURRING_DAYS = (20, 40)


@dataclass(frozen=True, slots=True)
class Row:
    """An expenses.csv row as the review sees it; `minor` in company cents, `original` as spent.
    `order` is the row's position in the file (the importer's ids follow it)."""

    order: int
    ref: str
    day: dt.date
    employee: str
    payer: str
    team: str
    merchant: str  # the importer's merchant: the name, or the normalized descriptor without one
    mcc: str
    minor: int
    original: int
    currency: str
    descriptor: str
    memo: str
    category: str
    receipt: bool
    receipt_id: str
    country: str

    @classmethod
    def of(cls, order: int, row: Mapping[str, str]) -> Row:
        currency = row["currency"]
        original = int(Decimal(row["amount"]).scaleb(currency_exponent(currency)))
        card = row.get("card", "")
        return cls(
            order=order,
            ref=row["id"],
            day=dt.date.fromisoformat(row["date"]),
            employee=row["employee_email"],
            payer=row["employee_email"] or (f"card {card}" if card else f"team {row['team']}"),
            team=row["team"],
            merchant=row["merchant"] or normalize_merchant(row["descriptor"]),
            mcc=row["mcc"],
            minor=cents(row["amount_company"] or row["amount"]),
            original=original,
            currency=currency,
            descriptor=row["descriptor"],
            memo=row["memo"],
            category=row["category_code"],
            receipt=row["receipt"] == "true",
            receipt_id=row.get("receipt_id", "").strip().casefold(),
            country=row.get("country", ""),
        )

    @property
    def key(self) -> tuple[dt.date, int]:
        return (self.day, self.order)


@dataclass(frozen=True, slots=True)
class Case:
    """One thing the review should find: its kind, the rule's id (None for a pattern) and the
    expenses involved, the flagged one first."""

    kind: str
    rule: str | None
    refs: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.rule}" if self.rule else self.kind


@dataclass(frozen=True, slots=True)
class Threshold:
    minor: int  # the smallest amount that needs an approval
    categories: frozenset[str] | None


def cents(text: str) -> int:
    return int(Decimal(text).scaleb(2))


def approval_thresholds(document: Mapping[str, Any]) -> list[Threshold]:
    """The approval policy's amount thresholds that apply to everyone (docs/review.md): `amount_over`
    X needs approval from X + 0.01, `amount_at_least` X from X; with `category_in` for those only."""
    found = []
    for rule in document["rules"]:
        when = rule["when"]
        amount = when.get("amount_over") or when.get("amount_at_least")
        if amount is None or set(when) - {"amount_over", "amount_at_least", "category_in", "payment_type_in"}:
            continue
        if "payment_type_in" in when and "card" not in when["payment_type_in"]:
            continue
        categories = frozenset(when["category_in"]) if "category_in" in when else None
        found.append(Threshold(cents(amount) + ("amount_over" in when), categories))
    return sorted(set(found), key=lambda t: -t.minor)


def find_cases(
    rows: Sequence[Row], policy: ExpensePolicy, thresholds: Sequence[Threshold], country: str
) -> list[Case]:
    """Every case of every rule and pattern in `rows` (company cents; the approval policy's
    `thresholds`; the company's `country`), in a stable order."""
    ordered = sorted(rows, key=lambda row: row.key)
    holidays = frozenset(day for year in {r.day.year for r in rows} for day in public_holidays(country, year))
    context = _Context(thresholds, country, holidays)
    cases: list[Case] = []
    for rule in policy.rules:
        charges = [row for row in ordered if row.minor > 0 and _applies(rule, row)]
        cases += _RULES[type(rule)](rule, charges, context)
    return cases + patterns(ordered, policy.patterns, thresholds)


@dataclass(frozen=True, slots=True)
class _Context:
    thresholds: Sequence[Threshold]
    country: str
    holidays: frozenset[dt.date]


def _applies(rule: Rule, row: Row) -> bool:
    return rule.categories is None or row.category in rule.categories


def _money(value: Decimal) -> int:
    return int(value.scaleb(2))


def _receipts(rule: ReceiptRequired, charges: Sequence[Row], _: _Context) -> Iterator[Case]:
    for row in charges:
        if row.minor > _money(rule.above) and not row.receipt and not row.receipt_id:
            yield Case(rule.kind, rule.id, (row.ref,))


def _cap_of(rule: Cap, country: str) -> int:
    return _money(rule.countries.get(country, rule.amount))


def _caps(rule: Cap, charges: Sequence[Row], context: _Context) -> Iterator[Case]:
    if rule.per == "expense":
        for row in charges:
            if row.minor > _cap_of(rule, row.country or context.country):
                yield Case(rule.kind, rule.id, (row.ref,))
        return
    days: dict[tuple[str, dt.date, str], list[Row]] = defaultdict(list)
    for row in charges:
        days[(row.payer, row.day, row.country or context.country)].append(row)
    for (_, _, country), group in days.items():
        if sum(row.minor for row in group) > _cap_of(rule, country):
            largest = sorted(group, key=lambda row: (-row.minor, row.key))
            yield Case(rule.kind, rule.id, tuple(row.ref for row in largest))


def _blocked(rule: Blocked, charges: Sequence[Row], _: _Context) -> Iterator[Case]:
    names = [name.casefold() for name in rule.merchants]
    for row in charges:
        text = f"{row.merchant}\n{row.descriptor}".casefold()
        if row.mcc in rule.mccs or any(name in text for name in names):
            yield Case(rule.kind, rule.id, (row.ref,))


def _weekends(rule: WeekendSpend, charges: Sequence[Row], context: _Context) -> Iterator[Case]:
    for row in charges:
        if row.day.weekday() >= 5 or (rule.holidays and row.day in context.holidays):
            yield Case(rule.kind, rule.id, (row.ref,))


def _keywords(rule: Keywords, charges: Sequence[Row], _: _Context) -> Iterator[Case]:
    words = "|".join(re.escape(word) for word in rule.keywords)
    pattern = re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)
    for row in charges:
        if pattern.search(row.descriptor) or pattern.search(row.memo):
            yield Case(rule.kind, rule.id, (row.ref,))


def _just_below(rule: JustBelowThreshold, charges: Sequence[Row], context: _Context) -> Iterator[Case]:
    limits = [Threshold(_money(t), None) for t in rule.thresholds] if rule.thresholds else context.thresholds
    share = Fraction(100 - rule.margin_percent) / 100
    for row in charges:
        if any(
            (t.categories is None or row.category in t.categories) and t.minor * share <= row.minor < t.minor
            for t in limits
        ):
            yield Case(rule.kind, rule.id, (row.ref,))


_RULES: dict[type, Callable[..., Iterable[Case]]] = {
    ReceiptRequired: _receipts,
    Cap: _caps,
    Blocked: _blocked,
    WeekendSpend: _weekends,
    Keywords: _keywords,
    JustBelowThreshold: _just_below,
}


def patterns(ordered: Sequence[Row], settings: Patterns, thresholds: Sequence[Threshold]) -> list[Case]:
    """The statistical patterns (with or without a policy), each when enabled; `ordered` by (day, order)."""
    found: list[Case] = []
    charges = [row for row in ordered if row.minor > 0]
    if settings.duplicates.enabled:
        found += duplicates(charges, settings.duplicates.window_days)
    if settings.split_purchases.enabled:
        found += splits(charges, settings.split_purchases.window_days, _split_limits(settings, thresholds))
    if settings.spikes.enabled:
        found += spikes(ordered, settings.spikes.min_history, Fraction(settings.spikes.factor))
    if settings.new_merchant.enabled:
        found += new_merchants(ordered, _money(settings.new_merchant.first_charge_above))
    if settings.round_numbers.enabled:
        rounds = settings.round_numbers
        found += round_runs(charges, rounds.multiple, rounds.min_run, rounds.window_days)
    if settings.refunds.enabled:
        found += refunds(ordered, settings.refunds.lookback_days)
    return found


def _split_limits(settings: Patterns, thresholds: Sequence[Threshold]) -> list[Threshold]:
    split = settings.split_purchases
    limits = [Threshold(_money(t), None) for t in split.thresholds] if split.thresholds else list(thresholds)
    if split.card_limit is not None:
        limits.append(Threshold(_money(split.card_limit) + 1, None))
    return sorted(limits, key=lambda t: -t.minor)


def _within(group: Sequence[Row], row: Row, days: int) -> list[Row]:
    """`group`'s rows from `days` before `row` up to it, itself excluded, oldest first."""
    start = row.day - dt.timedelta(days=days)
    return [other for other in group if start <= other.day and other.key < row.key]


def duplicates(charges: Sequence[Row], window: int) -> Iterator[Case]:
    """The same receipt again; or the same charge again (docs/review.md: floors, prices, bills)."""
    receipts: dict[str, Row] = {}
    same: dict[tuple[str, str, int], list[Row]] = defaultdict(list)
    for row in charges:
        same[(row.merchant, row.currency, row.original)].append(row)
    for row in charges:
        if row.receipt_id and row.receipt_id in receipts:
            yield Case("duplicate", None, (row.ref, receipts[row.receipt_id].ref))
        elif (
            original := _repeats(row, same[(row.merchant, row.currency, row.original)], window)
        ) is not None:
            yield Case("duplicate", None, (row.ref, original.ref))
        if row.receipt_id:
            receipts.setdefault(row.receipt_id, row)


def _repeats(row: Row, group: Sequence[Row], window: int) -> Row | None:
    recent = _within(group, row, window)
    if row.minor < DUPLICATE_FLOOR or not recent:
        return None
    near = [o for o in group if abs((o.day - row.day).days) <= window]
    low, high = (row.day - dt.timedelta(days=d) for d in reversed(RECURRING_DAYS))
    billed = any(low <= o.day <= high and (o.payer == row.payer or o.team == row.team) for o in group)
    if len(near) >= PRICE_LIST or billed:
        return None
    original = recent[-1]
    if original.payer == row.payer:
        return original
    same_text = " ".join(original.descriptor.casefold().split()) == " ".join(
        row.descriptor.casefold().split()
    )
    return original if same_text and row.minor >= CROSS_PAYER_FLOOR else None


def splits(charges: Sequence[Row], window: int, limits: Sequence[Threshold]) -> Iterator[Case]:
    """The charge that takes a payer's parts at one merchant over a threshold (docs/review.md)."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in charges:
        groups[(row.payer, row.merchant)].append(row)
    for row in charges:
        recent = _within(groups[(row.payer, row.merchant)], row, window)
        for limit in limits:
            if limit.categories is not None and row.category not in limit.categories:
                continue
            parts = _parts(recent, row, limit)
            if parts:
                yield Case("split_purchase", None, tuple(part.ref for part in parts))
                break


def _parts(recent: Sequence[Row], row: Row, limit: Threshold) -> list[Row]:
    def part(other: Row) -> bool:
        in_categories = limit.categories is None or other.category in limit.categories
        return in_categories and Fraction(limit.minor, 5) <= other.minor < limit.minor

    earlier = [other for other in recent if part(other)]
    before = sum(other.minor for other in earlier)
    if not part(row) or not earlier or before >= limit.minor or before + row.minor < limit.minor:
        return []
    return [row, *reversed(earlier)]


@dataclass
class _Usual:
    count: int = 0
    total: int = 0
    largest: int = 0

    def add(self, minor: int) -> None:
        self.count, self.total, self.largest = self.count + 1, self.total + minor, max(self.largest, minor)


def _month(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def spikes(ordered: Sequence[Row], min_history: int, factor: Fraction) -> Iterator[Case]:
    """More than `factor` times the employee's and the team's mean in the category and the merchant's
    mean charge, over the 12 calendar months before the charge's month, and more than the employee's
    largest there."""
    own: dict[tuple[str, str, dt.date], _Usual] = defaultdict(_Usual)
    team: dict[tuple[str, str, dt.date], _Usual] = defaultdict(_Usual)
    merchant: dict[tuple[str, str, dt.date], _Usual] = defaultdict(_Usual)
    for row in ordered:
        if row.category:  # the team's: the monthly rollup, refunds counted and netted
            team[(row.team, row.category, _month(row.day))].add(row.minor)
        if row.minor > 0:
            merchant[(row.merchant, "", _month(row.day))].add(row.minor)
        if row.category and row.employee and row.minor > 0:
            own[(row.employee, row.category, _month(row.day))].add(row.minor)
    for row in ordered:
        if row.minor <= 0 or not row.employee or not row.category:
            continue
        mine = _year_before(own, row.employee, row.category, row.day)
        theirs = _year_before(team, row.team, row.category, row.day)
        usual = _year_before(merchant, row.merchant, "", row.day)
        if min(mine.count, theirs.count, usual.count) < min_history:
            continue
        if row.minor > mine.largest and all(_over(row.minor, u, factor) for u in (mine, theirs, usual)):
            yield Case("spike", None, (row.ref,))


def _year_before(
    usual: Mapping[tuple[str, str, dt.date], _Usual], who: str, category: str, day: dt.date
) -> _Usual:
    total = _Usual()
    for back in range(1, 13):
        month = usual.get((who, category, _month(day, back)))
        if month is not None:
            total.count, total.total = total.count + month.count, total.total + month.total
            total.largest = max(total.largest, month.largest)
    return total


def _over(minor: int, usual: _Usual, factor: Fraction) -> bool:
    return usual.total > 0 and minor * usual.count > factor * usual.total


def new_merchants(ordered: Sequence[Row], above: int) -> Iterator[Case]:
    """The first charge at a merchant, on the first day anything was charged there, when over `above`."""
    first_day: dict[str, dt.date] = {}
    flagged: set[str] = set()
    for row in ordered:
        first_day.setdefault(row.merchant, row.day)
        if row.minor > 0 and row.merchant not in flagged and first_day[row.merchant] == row.day:
            flagged.add(row.merchant)
            if row.minor > above:
                yield Case("new_merchant", None, (row.ref,))


def round_runs(charges: Sequence[Row], multiple: Decimal, min_run: int, window: int) -> Iterator[Case]:
    """The charge that makes `min_run` round amounts (as spent) by one payer at one merchant."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    rounds = [
        row for row in charges if row.original % int(multiple.scaleb(currency_exponent(row.currency))) == 0
    ]
    for row in rounds:
        groups[(row.payer, row.merchant)].append(row)
    for row in rounds:
        earlier = _within(groups[(row.payer, row.merchant)], row, window)
        if len(earlier) + 1 == min_run:
            yield Case("round_numbers", None, (row.ref, *(other.ref for other in reversed(earlier))))


def refunds(ordered: Sequence[Row], lookback: int) -> Iterator[Case]:
    """A refund with no charge at its merchant, by anyone, at least as large in the lookback."""
    charges: dict[str, list[Row]] = defaultdict(list)
    for row in ordered:
        if row.minor > 0:
            charges[row.merchant].append(row)
    for row in ordered:
        if row.minor >= 0:
            continue
        start = row.day - dt.timedelta(days=lookback)
        if not any(start <= c.day <= row.day and _covers(c, row) for c in charges[row.merchant]):
            yield Case("refund_without_charge", None, (row.ref,))


def _covers(charge: Row, refund: Row) -> bool:
    if charge.currency == refund.currency:
        return charge.original >= -refund.original
    return charge.minor >= -refund.minor
