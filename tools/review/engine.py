"""The review: every rule of the expense policy and every pattern, over the expenses in scope (pure:
no database, no model). `review(scope, context)` is what the tool and `outlay eval review` call.

A finding belongs to a review when its flagged expense (`expense_ids[0]`, always the latest of a
pattern's expenses) is in scope; with `involving=True` (a review of named expenses) when any of its
expenses is. So the reviews of two periods never report the same finding, and one expense's review
gives every finding it is part of.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from server.kit.expense_policy import Cap, Rule
from tools.review import anomalies, patterns, rules
from tools.review.findings import Finding, ReviewContext, ReviewedExpense


class ScopeRules:
    """The policy's rules that read the scope alone, every one but the per-day caps (which add a person's
    day up with the expenses before the scope), checked one at a time (`check`) before the history is
    known: the service checks them while the database reads the history. `context` needs only what the
    rules read (the policy, the currencies and rate, the thresholds, the holidays, the country)."""

    def __init__(self, scope: Sequence[ReviewedExpense], context: ReviewContext) -> None:
        self.scope = sorted(scope, key=patterns.order)  # sorted once: each pattern's sort is then one pass
        self.context = context
        self.found: dict[int, list[Finding]] = {}
        self._charges = rules.Charges(self.scope)

    def check(self, index: int) -> None:
        """The findings of the policy's rule `index` (nothing for a per-day cap)."""
        rule = self.context.policy.rules[index]
        if not _per_day(rule):
            self.found[index] = list(rules.check(rule, self._charges.of(rule.categories), self.context))

    def check_all(self) -> ScopeRules:
        for index in range(len(self.context.policy.rules)):
            self.check(index)
        return self


def review(
    scope: Sequence[ReviewedExpense],
    context: ReviewContext,
    *,
    involving: bool = False,
    checked: ScopeRules | None = None,
) -> list[Finding]:
    """The findings of the expenses in `scope`, sorted by `Finding.sort_key`. `checked`: the scope's
    rules, every one checked already, with a context that differs from `context` in none of the fields
    they read."""
    checked = checked or ScopeRules(scope, context).check_all()
    scope = checked.scope
    in_scope = {expense.id for expense in scope}
    history = _history(scope, context)
    candidates = list(history) if involving else list(scope)
    found = [
        *_rule_findings(scope, history, context, checked),
        *_pattern_findings(scope, candidates, history, context),
    ]
    kept = [f for f in found if _belongs(f, in_scope, involving=involving)]
    return sorted(_unique(kept), key=lambda finding: finding.sort_key)


def _history(scope: Sequence[ReviewedExpense], context: ReviewContext) -> list[ReviewedExpense]:
    """The context's history with the scope's own expenses in it (once each)."""
    merged = {expense.id: expense for expense in context.history}
    merged.update((expense.id, expense) for expense in scope)
    return sorted(merged.values(), key=patterns.order)


def _per_day(rule: Rule) -> bool:
    return isinstance(rule, Cap) and rule.per == "day"


def _rule_findings(
    scope: Sequence[ReviewedExpense],
    history: list[ReviewedExpense],
    context: ReviewContext,
    checked: ScopeRules,
) -> Iterator[Finding]:
    """Each rule on the charges of its categories, grouped once (a month of a large company is 80,000
    charges: each rule filtering them all again cost more than most rules' own checks), in the policy's
    order: the scope's rules as checked, the per-day caps now."""
    same_days: rules.Charges | None = None
    for index, rule in enumerate(context.policy.rules):
        if _per_day(rule):  # a day's charges, those before the scope too
            if same_days is None:
                days = {expense.spent_on for expense in scope}
                same_days = rules.Charges(e for e in history if e.spent_on in days)
            yield from rules.check(rule, same_days.of(rule.categories), context)
        else:
            yield from checked.found[index]


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
