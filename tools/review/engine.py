"""The review: every rule of the expense policy and every pattern, over the expenses in scope (pure:
no database, no model). `review(scope, context)` is what the tool and `outlay eval review` call.

A finding belongs to a review when its flagged expense (`expense_ids[0]`, always the latest of a
pattern's expenses) is in scope; with `involving=True` (a review of named expenses) when any of its
expenses is. So the reviews of two periods never report the same finding, and one expense's review
gives every finding it is part of.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from server.kit.expense_policy import Cap
from tools.review import anomalies, patterns, rules
from tools.review.findings import Finding, ReviewContext, ReviewedExpense


def review(
    scope: Sequence[ReviewedExpense], context: ReviewContext, *, involving: bool = False
) -> list[Finding]:
    """The findings of the expenses in `scope`, sorted by `Finding.sort_key`."""
    scope = sorted(scope, key=patterns.order)  # sorted once: each pattern's own sort is then one pass
    in_scope = {expense.id for expense in scope}
    history = _history(scope, context)
    candidates = list(history) if involving else list(scope)
    found = [
        *_rule_findings(scope, history, context),
        *_pattern_findings(scope, candidates, history, context),
    ]
    kept = [f for f in found if _belongs(f, in_scope, involving=involving)]
    return sorted(_unique(kept), key=lambda finding: finding.sort_key)


def _history(scope: Sequence[ReviewedExpense], context: ReviewContext) -> list[ReviewedExpense]:
    """The context's history with the scope's own expenses in it (once each)."""
    merged = {expense.id: expense for expense in context.history}
    merged.update((expense.id, expense) for expense in scope)
    return sorted(merged.values(), key=patterns.order)


def _rule_findings(
    scope: Sequence[ReviewedExpense], history: list[ReviewedExpense], context: ReviewContext
) -> Iterator[Finding]:
    """Each rule on the charges of its categories, grouped once (a month of a large company is 80,000
    charges: each rule filtering them all again cost more than most rules' own checks)."""
    charges = rules.Charges(scope)
    same_days: rules.Charges | None = None
    for rule in context.policy.rules:
        if isinstance(rule, Cap) and rule.per == "day":  # a day's charges, those before the scope too
            if same_days is None:
                days = {expense.spent_on for expense in scope}
                same_days = rules.Charges(e for e in history if e.spent_on in days)
            yield from rules.check(rule, same_days.of(rule.categories), context)
        else:
            yield from rules.check(rule, charges.of(rule.categories), context)


def _pattern_findings(
    scope: Sequence[ReviewedExpense],
    candidates: list[ReviewedExpense],
    history: list[ReviewedExpense],
    context: ReviewContext,
) -> Iterator[Finding]:
    settings = context.policy.patterns
    if settings.duplicates.enabled:
        yield from patterns.duplicates(candidates, history, context)
    if settings.split_purchases.enabled:
        yield from patterns.split_purchases(candidates, history, context)
    if settings.round_numbers.enabled:
        yield from patterns.round_numbers(candidates, history, context)
    if settings.refunds.enabled:
        yield from patterns.refunds(candidates, history, context)
    if settings.spikes.enabled:
        yield from anomalies.spikes(scope, context)
    if settings.new_merchant.enabled:
        yield from anomalies.new_merchants(scope, history, context)


def _belongs(finding: Finding, in_scope: set[int], *, involving: bool) -> bool:
    if involving:
        return any(expense_id in in_scope for expense_id in finding.expense_ids)
    return finding.expense_ids[0] in in_scope


def _unique(findings: list[Finding]) -> list[Finding]:
    """One finding per kind, rule and expenses (a day's cap seen from two of its expenses is one)."""
    seen: dict[tuple[object, ...], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.kind, finding.rule, finding.expense_ids), finding)
    return list(seen.values())
