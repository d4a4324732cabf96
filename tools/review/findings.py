"""What a review reads and what it finds: plain values, no database, no MCP (the engine's contract).

`engine.review(scope, context)` (pure) takes the expenses in the review's scope plus the history it
compares them with (`ReviewContext`) and returns `Finding`s; the queries build both, the tool pages
and presents the findings, and `outlay eval review` scores them against the demo's answer key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal, NamedTuple, TypeAlias

from server.kit.expense_policy import ExpensePolicy, Severity

# Pattern kinds (found without a policy); a policy rule's finding has the rule's `kind` and `id`.
PatternKind: TypeAlias = Literal[
    "duplicate", "split_purchase", "spike", "new_merchant", "round_numbers", "refund_without_charge"
]
RuleKind: TypeAlias = Literal[
    "receipt_required", "cap", "blocked", "weekend_spend", "keywords", "just_below_threshold"
]
SEVERITY_ORDER: Mapping[Severity, int] = {"high": 0, "medium": 1, "low": 2}


class ReviewedExpense(NamedTuple):
    """One expense as the review sees it. Amounts in minor units; `amount_minor` is in the company
    currency (negative: a refund or credit), `original_minor` in `currency`. A named tuple: a month's
    review builds over 100,000 of them, at half a frozen dataclass's cost."""

    id: int
    ref: str
    spent_on: dt.date
    amount_minor: int
    original_minor: int
    currency: str
    merchant_id: int
    merchant: str
    descriptor: str
    memo: str | None
    mcc: str | None
    category: str | None  # category code
    team: str  # team name
    employee: str | None  # e-mail; None when the export names no one
    card: str | None  # masked card reference (expenses.csv `card`)
    receipt_id: str | None
    receipt_present: bool
    country: str | None  # where it was spent (expenses.csv `country`); None: the company's


# (merchant, currency, amount as spent): the same charge, what a duplicate repeats. A tuple made in C for
# each of a month's 95,000 charges.
same_charge: Callable[[ReviewedExpense], tuple[int, str, int]] = attrgetter(
    "merchant_id", "currency", "original_minor"
)


class ChargeDay(NamedTuple):
    """One day's charges at one merchant in one currency, summarized: what a refund needs of the charges
    before it (whether one is at least as large, and how many there are)."""

    spent_on: dt.date
    currency: str
    charges: int  # how many
    largest_original_minor: int  # in `currency`
    largest_minor: int  # in the company currency


def charge_days(charges: Iterable[ReviewedExpense]) -> dict[int, tuple[ChargeDay, ...]]:
    """Charges summarized per merchant, day and currency (a context without `uncovered_refunds`)."""
    grouped: dict[tuple[int, dt.date, str], list[ReviewedExpense]] = {}
    for charge in charges:
        grouped.setdefault((charge.merchant_id, charge.spent_on, charge.currency), []).append(charge)
    days: dict[int, list[ChargeDay]] = {}
    for (merchant_id, day, currency), group in grouped.items():
        originals = [e.original_minor for e in group]
        summary = ChargeDay(day, currency, len(group), max(originals), max(e.amount_minor for e in group))
        days.setdefault(merchant_id, []).append(summary)
    return {merchant_id: tuple(sorted(found)) for merchant_id, found in days.items()}


@dataclass(frozen=True, slots=True)
class Usual:
    """What one employee or team usually spends in one category: its expenses of the 12 calendar months
    before a month (`spike`'s baseline). `max_minor` is None where it is not known (a team's, from the
    monthly rollup)."""

    count: int
    total_minor: int
    max_minor: int | None = None


@dataclass(frozen=True, slots=True)
class Threshold:
    """An approval threshold: spend from `minor` (company currency) on needs an approval, in the given
    categories only (None: every category). `label` says where it comes from."""

    minor: int
    categories: frozenset[str] | None = None
    label: str = "approval policy"


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What the scope is compared with. `history` holds the company's expenses the patterns compare
    the scope's with (the scope's own may be left out): from the longest window before the scope's
    first day (duplicates, splits, runs; refunds' lookback for the merchants refunded) to the duplicate
    window after its last (a price many pay is no duplicate); `first_seen` the first day each merchant
    (by id) was charged to the company, over all its history, for the merchants of the scope's large
    charges at least."""

    policy: ExpensePolicy
    company_currency: str
    policy_rate: tuple[int, int] = (1, 1)  # company minor = policy minor * num / den (fx, exact)
    approval_thresholds_minor: tuple[int, ...] = ()  # from the approval policy in force, company currency
    holidays: frozenset[dt.date] = frozenset()  # public holidays of the company's country
    history: tuple[ReviewedExpense, ...] = ()
    first_seen: Mapping[int, dt.date] = field(default_factory=dict)
    company_country: str | None = None  # where an expense without `country` was spent
    # Approval thresholds with their categories; `approval_thresholds_minor` holds those of every category.
    thresholds: tuple[Threshold, ...] = ()
    # spike baselines, by (employee e-mail or team name, category code, first day of the expense's month)
    employee_usual: Mapping[tuple[str, str, dt.date], Usual] = field(default_factory=dict)
    team_usual: Mapping[tuple[str, str, dt.date], Usual] = field(default_factory=dict)
    # ... and by (merchant id, first day of the month): what the merchant usually charges the company
    merchant_usual: Mapping[tuple[int, dt.date], Usual] = field(default_factory=dict)
    # The scope's refunds (by id) without an original charge in their lookback, each with how many charges
    # its merchant had then (`queries.uncovered_refunds`); None: found from the history's charges, summarized
    # per merchant, day and currency (`charge_days`).
    uncovered_refunds: Mapping[int, int] | None = None

    def approval_thresholds(self) -> tuple[Threshold, ...]:
        """Every threshold: the plain ones and those restricted to categories."""
        plain = tuple(Threshold(minor) for minor in self.approval_thresholds_minor)
        return plain + tuple(t for t in self.thresholds if t not in plain)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a person should look at. `rule` is the policy rule's id (None for a pattern);
    `evidence` holds the clause or the statistic and its threshold as display strings (amounts as
    decimal strings with their currency)."""

    kind: RuleKind | PatternKind
    rule: str | None
    severity: Severity
    reason: str  # one plain sentence: what and why
    expense_ids: tuple[int, ...]  # the expenses involved, the flagged one(s) first
    amount_minor: int  # at stake, company currency (a split: the sum; a duplicate: the repeat)
    evidence: Mapping[str, str]
    action: str  # what a person should do

    @property
    def sort_key(self) -> tuple[int, int, tuple[int, ...]]:
        """Severity, then the larger amount first, then the expense ids: a stable, total order."""
        return (SEVERITY_ORDER[self.severity], -abs(self.amount_minor), self.expense_ids)
