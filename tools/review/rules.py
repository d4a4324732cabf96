"""The expense policy's rules, checked one expense (or one person's day) at a time: docs/review.md
says exactly what each kind flags. Only charges are checked (a refund breaches no rule)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cache
from operator import attrgetter

from server.kit.expense_policy import (
    Blocked,
    Cap,
    JustBelowThreshold,
    Keywords,
    ReceiptRequired,
    Rule,
    Severity,
    WeekendSpend,
)
from tools.review.amounts import expense_lines, in_company_minor, percent, shown, shown_policy
from tools.review.findings import Finding, ReviewContext, ReviewedExpense, RuleKind

DEFAULT_SEVERITY: dict[RuleKind, Severity] = {
    "receipt_required": "medium",
    "cap": "medium",
    "blocked": "high",
    "weekend_spend": "low",
    "keywords": "medium",
    "just_below_threshold": "medium",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Charges:
    """The charges (a refund breaches no rule) among some expenses, in their order, and those of each set of
    categories a rule names, filtered once each (a comprehension per set the rules ask for costs less
    than grouping every charge by category in a Python loop)."""

    def __init__(self, expenses: Iterable[ReviewedExpense]) -> None:
        self.all = [e for e in expenses if e.amount_minor > 0]
        self._of: dict[tuple[str, ...], list[ReviewedExpense]] = {}

    def of(self, categories: Sequence[str] | None) -> list[ReviewedExpense]:
        """The charges of these categories (None: every one), in their order."""
        if categories is None:
            return self.all
        key = tuple(categories)
        found = self._of.get(key)
        if found is None:
            wanted = frozenset(categories)
            found = self._of[key] = [e for e in self.all if e.category in wanted]
        return found


def check(rule: Rule, charges: list[ReviewedExpense], context: ReviewContext) -> Iterator[Finding]:
    """The rule's findings on `charges` (`Charges.of` the rule's categories; a per-day cap: the charges of
    the scope's days)."""
    if isinstance(rule, ReceiptRequired):
        above = _floor(in_company_minor(context, rule.above))
        yield from (_receipt(rule, e, context) for e in charges if e.amount_minor > above and _no_receipt(e))
    elif isinstance(rule, Cap) and rule.per == "expense":
        caps = _Caps(rule, context)
        yield from (_cap_expense(rule, e, caps, context) for e in charges if caps.over(e))
    elif isinstance(rule, Cap):
        yield from _cap_days(rule, charges, context)
    elif isinstance(rule, Blocked):
        may_be = _may_be_blocked(rule, charges)
        yield from (f for e in may_be if (f := _blocked(rule, e, context)) is not None)
    elif isinstance(rule, WeekendSpend):
        yield from (f for e in charges if (f := _weekend(rule, e, context)) is not None)
    elif isinstance(rule, Keywords):
        flagged = _matching(_word_pattern(rule.keywords), _texts(charges, memos=True))
        yield from (
            f
            for e in (charges if flagged else ())
            if (e.descriptor in flagged or (e.memo and e.memo in flagged))
            and (f := _keywords(rule, e, context)) is not None
        )
    else:
        yield from _just_below(rule, charges, context)


def _floor(value: Fraction) -> int:
    """The largest whole number of minor units <= value: an amount in minor units is more than `value`
    exactly when it is more than this (compared as integers, not as fractions, 80,000 times a month)."""
    return value.numerator // value.denominator


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


def _finding(
    rule: Rule,
    expenses: list[ReviewedExpense],
    context: ReviewContext,
    *,
    at_stake: int,
    reason: str,
    action: str,
    evidence: dict[str, str],
) -> Finding:
    clause = {"rule": rule.id} | ({"clause": rule.description} if rule.description else {})
    return Finding(
        kind=rule.kind,
        rule=rule.id,
        severity=rule.severity or DEFAULT_SEVERITY[rule.kind],
        reason=reason,
        expense_ids=tuple(expense.id for expense in expenses),
        amount_minor=at_stake,
        evidence=clause | evidence | {"expenses": expense_lines(expenses, context.company_currency)},
        action=action,
    )


def _categories(rule: Rule) -> str:
    return "every category" if rule.categories is None else ", ".join(rule.categories)


# ---- receipt_required --------------------------------------------------------------------------------


def _no_receipt(expense: ReviewedExpense) -> bool:
    return not (expense.receipt_present or (expense.receipt_id and expense.receipt_id.strip()))


def _receipt(rule: ReceiptRequired, expense: ReviewedExpense, context: ReviewContext) -> Finding:
    above = shown_policy(context, rule.above)
    return _finding(
        rule,
        [expense],
        context,
        at_stake=expense.amount_minor,
        reason=f"{expense.ref} has no receipt, and the policy requires one above {above}.",
        action="Ask the spender for the receipt before the expense is approved or reimbursed.",
        evidence={"required_above": above, "categories": _categories(rule), "receipt": "none attached"},
    )


# ---- cap -----------------------------------------------------------------------------------------------


def _country(expense: ReviewedExpense, context: ReviewContext) -> str | None:
    return expense.country or context.company_country


def _cap_of(rule: Cap, country: str | None) -> tuple[Decimal, str]:
    """The cap where the expense was spent, and how to name it."""
    if country is not None and country in rule.countries:
        return rule.countries[country], f"cap in {country}"
    return rule.amount, "cap"


class _Caps:
    """A cap rule's cap in each country, in company minor units, converted once per review."""

    def __init__(self, rule: Cap, context: ReviewContext) -> None:
        self._rule, self._context = rule, context
        self._limits: dict[str | None, tuple[Decimal, str, int]] = {}

    def of(self, country: str | None) -> tuple[Decimal, str, int]:
        """The cap, its name, and the largest amount (minor units) within it."""
        found = self._limits.get(country)
        if found is None:
            cap, named = _cap_of(self._rule, country)
            found = self._limits[country] = (cap, named, _floor(in_company_minor(self._context, cap)))
        return found

    def over(self, expense: ReviewedExpense) -> bool:
        return expense.amount_minor > self.of(_country(expense, self._context))[2]


def _cap_expense(rule: Cap, expense: ReviewedExpense, caps: _Caps, context: ReviewContext) -> Finding:
    cap, named, _ = caps.of(_country(expense, context))
    excess = _excess(expense.amount_minor, in_company_minor(context, cap))
    currency = context.company_currency
    return _finding(
        rule,
        [expense],
        context,
        at_stake=excess,
        reason=f"{expense.ref} is {shown(excess, currency)} over the policy's {named} of "
        f"{shown_policy(context, cap)} per expense ({_categories(rule)}).",
        action="Ask the spender why the cap was exceeded; recover the excess unless a manager approves it.",
        evidence={named: shown_policy(context, cap), "per": "expense", "over_by": shown(excess, currency)},
    )


def _excess(amount: int, limit: Fraction) -> int:
    """How much of `amount` is above `limit`, in whole minor units (the limit rounded up)."""
    return amount - _ceil(limit)


def _cap_days(rule: Cap, charges: list[ReviewedExpense], context: ReviewContext) -> Iterator[Finding]:
    """One person's (or, without one, one card's) charges of one day, in one country, added together."""
    days: dict[tuple[str, object, str | None], list[ReviewedExpense]] = defaultdict(list)
    home = context.company_country
    # Who paid (the employee, or the card when the export names no one) and `_country`, inline: a call
    # each per charge cost more than the rest.
    for expense in charges:
        payer = expense.employee or (f"card {expense.card}" if expense.card else None)
        if payer is not None:
            days[payer, expense.spent_on, expense.country or home].append(expense)
    caps = _Caps(rule, context)
    # Only the days over their cap sorted (by payer): sorting every person's every day cost more than
    # adding them up.
    totals = ((key, group, sum(map(_amount, group))) for key, group in days.items())
    over = [(key, group, total) for key, group, total in totals if total > caps.of(key[2])[2]]
    for (payer, _, country), expenses, total in sorted(over, key=lambda item: str(item[0])):
        cap, named, _ = caps.of(country)
        limit = in_company_minor(context, cap)
        expenses.sort(key=lambda e: (-e.amount_minor, e.id))
        excess, currency = _excess(total, limit), context.company_currency
        yield _finding(
            rule,
            expenses,
            context,
            at_stake=excess,
            reason=f"{payer} spent {shown(total, currency)} on {expenses[0].spent_on.isoformat()} "
            f"({_categories(rule)}), {shown(excess, currency)} over the policy's {named} of "
            f"{shown_policy(context, cap)} per person per day.",
            action="Ask the spender why the daily cap was exceeded; recover the excess unless a manager "
            "approves it.",
            evidence={
                named: shown_policy(context, cap),
                "per": "person per day",
                "day_total": shown(total, currency),
                "over_by": shown(excess, currency),
            },
        )


_amount: Callable[[ReviewedExpense], int] = attrgetter("amount_minor")


# ---- blocked -------------------------------------------------------------------------------------------


def _may_be_blocked(rule: Blocked, charges: list[ReviewedExpense]) -> list[ReviewedExpense]:
    """The charges that can be blocked: their MCC is, or one of the names is somewhere in their merchant or
    descriptor (one regular expression for all the names; `_blocked` then says which)."""
    mccs = frozenset(rule.mccs)
    if not rule.merchants:
        return [e for e in charges if e.mcc in mccs]
    names = re.compile("|".join(re.escape(name.casefold()) for name in rule.merchants))
    named = _matching(names, _texts(charges, memos=False))
    if not named:
        return [e for e in charges if e.mcc in mccs]
    return [e for e in charges if e.mcc in mccs or e.merchant in named or e.descriptor in named]


def _texts(charges: list[ReviewedExpense], *, memos: bool) -> set[str]:
    """The charges' distinct descriptors and merchant names (or memos): a team's quarter of 12,000 charges
    has 2,600 descriptors, 130 merchants and 360 memos, each screened once instead of once a charge."""
    found = set(map(_descriptor, charges))
    if memos:
        found.update(memo for memo in map(_memo, charges) if memo)
    else:
        found.update(map(_merchant, charges))
    return found


def _matching(pattern: re.Pattern[str], texts: Iterable[str]) -> frozenset[str]:
    search = pattern.search
    return frozenset(text for text in texts if search(text.casefold()))


_descriptor: Callable[[ReviewedExpense], str] = attrgetter("descriptor")
_memo: Callable[[ReviewedExpense], str | None] = attrgetter("memo")
_merchant: Callable[[ReviewedExpense], str] = attrgetter("merchant")


def _blocked(rule: Blocked, expense: ReviewedExpense, context: ReviewContext) -> Finding | None:
    if expense.mcc is not None and expense.mcc in rule.mccs:
        matched = {"blocked_mcc": expense.mcc}
        what = f"merchant category code {expense.mcc}"
    else:
        texts = (expense.merchant.casefold(), expense.descriptor.casefold())
        name = next((n for n in rule.merchants if any(n.casefold() in text for text in texts)), None)
        if name is None:
            return None
        matched, what = {"blocked_merchant": name}, f"merchant {name!r}"
    return _finding(
        rule,
        [expense],
        context,
        at_stake=expense.amount_minor,
        reason=f"{expense.ref} was paid to {expense.merchant}: {what} must not be paid at all.",
        action="Stop reimbursement and ask the spender to repay it, unless finance approves an exception.",
        evidence=matched | {"merchant": expense.merchant, "descriptor": expense.descriptor},
    )


# ---- weekend_spend -------------------------------------------------------------------------------------


def _weekend(rule: WeekendSpend, expense: ReviewedExpense, context: ReviewContext) -> Finding | None:
    day = expense.spent_on
    if day.weekday() >= 5:
        when = WEEKDAYS[day.weekday()]
    elif rule.holidays and day in context.holidays:
        when = f"a public holiday in {context.company_country or 'the company country'}"
    else:
        return None
    return _finding(
        rule,
        [expense],
        context,
        at_stake=expense.amount_minor,
        reason=f"{expense.ref} ({expense.category or 'uncategorized'}) was spent on {day.isoformat()}, "
        f"{when}; the policy expects no such spend then.",
        action="Ask the spender for the business reason; treat it as personal spend if there is none.",
        evidence={"day": f"{day.isoformat()} ({when})", "categories": _categories(rule)},
    )


# ---- keywords ------------------------------------------------------------------------------------------


@cache
def _word_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(word.casefold()) for word in sorted(keywords, key=len, reverse=True))
    return re.compile(rf"(?<!\w)({words})(?!\w)")


def _keywords(rule: Keywords, expense: ReviewedExpense, context: ReviewContext) -> Finding | None:
    pattern = _word_pattern(rule.keywords)
    found = [
        (field, match.group(1))
        for field, text in (("descriptor", expense.descriptor), ("memo", expense.memo or ""))
        if (match := pattern.search(text.casefold()))
    ]
    if not found:
        return None
    field, word = found[0]
    return _finding(
        rule,
        [expense],
        context,
        at_stake=expense.amount_minor,
        reason=f"{expense.ref}'s {field} mentions {word!r}, a word the policy flags.",
        action="Check what was bought; ask the spender to repay the part the policy does not cover.",
        evidence={f"keyword_in_{f}": w for f, w in found}
        | {"descriptor": expense.descriptor, "memo": expense.memo or ""},
    )


# ---- just_below_threshold ------------------------------------------------------------------------------


def _just_below(
    rule: JustBelowThreshold, charges: list[ReviewedExpense], context: ReviewContext
) -> Iterator[Finding]:
    """Each charge against the thresholds that apply to it, largest first: the first whose band
    [T x (100 - margin)%, T) holds the amount flags it. The bands are whole minor units, computed once."""
    share = Fraction((100 - rule.margin_percent) / 100)
    bands = [
        (_ceil(limit * share), _ceil(limit), named, categories)
        for limit, named, categories in _limits(rule, context)
    ]
    lowest = min((low for low, _, _, _ in bands), default=0)
    for expense in charges:
        if expense.amount_minor < lowest:
            continue
        for low, high, named, categories in bands:
            if categories is not None and expense.category not in categories:
                continue
            if low <= expense.amount_minor < high:
                yield _below(rule, expense, named, context)
                break


def _below(rule: JustBelowThreshold, expense: ReviewedExpense, named: str, context: ReviewContext) -> Finding:
    currency = context.company_currency
    return _finding(
        rule,
        [expense],
        context,
        at_stake=expense.amount_minor,
        reason=f"{expense.ref} ({shown(expense.amount_minor, currency)}) is within "
        f"{percent(rule.margin_percent)} under {named}: a purchase sized to avoid an approval?",
        action="Check whether the purchase was split or sized to stay under the threshold; ask "
        "for the approval it would have needed.",
        evidence={"threshold": named, "margin": percent(rule.margin_percent)},
    )


def _limits(
    rule: JustBelowThreshold, context: ReviewContext
) -> Iterable[tuple[Fraction, str, frozenset[str] | None]]:
    """The thresholds, largest first, each with how to name it and the categories it applies to (None:
    every one)."""
    found: list[tuple[Fraction, str, frozenset[str] | None]]
    if rule.thresholds is not None:
        found = [
            (in_company_minor(context, t), f"the threshold {shown_policy(context, t)}", None)
            for t in rule.thresholds
        ]
    else:
        found = [
            (
                Fraction(t.minor),
                f"the {t.label} threshold {shown(t.minor, context.company_currency)}",
                t.categories,
            )
            for t in context.approval_thresholds()
        ]
    return sorted(found, key=lambda item: -item[0])
