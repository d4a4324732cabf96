"""The review: every rule of the expense policy and every pattern, over the expenses in scope (pure:
no database, no model). `review(scope, context)` is the whole of it; the tool runs the same in steps
(`Review`), between the statements that read what the later steps need.

A finding belongs to a review when its flagged expense (`expense_ids[0]`, always the latest of a
pattern's expenses) is in scope; with `involving=True` (a review of named expenses) when any of its
expenses is. So the reviews of two periods never report the same finding, and one expense's review
gives every finding it is part of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from server.kit.expense_policy import Cap, Rule
from tools.review import anomalies, patterns, rules
from tools.review.findings import Finding, ReviewContext, ReviewedExpense

# What a step reads besides the scope: the scope's rules nothing more; the per-day caps and most patterns
# the history; refunds, spikes and new merchants the statistics (the refunds' charges, the usuals, the
# merchants' first days) too.
SCOPE, HISTORY, STATISTICS = 0, 1, 2


class Review:
    """One review in steps, each run once with the context as it stands when what it reads is known
    (`run`), so that the service runs the scope's rules while the database reads the history, and the
    history's patterns while it reads the statistics. `findings` runs what has not run, with its context,
    and gives the findings in the order of the steps: the policy's rules, then the patterns."""

    def __init__(
        self, scope: Sequence[ReviewedExpense], context: ReviewContext, *, involving: bool = False
    ) -> None:
        self.scope = sorted(scope, key=patterns.order)  # sorted once: each pattern's sort is then one pass
        self._involving = involving
        self._charges = rules.Charges(self.scope)
        self._history: list[ReviewedExpense] | None = None
        self._same_days: rules.Charges | None = None
        self._steps = _steps(context)
        self._found: dict[int, list[Finding]] = {}

    def steps(self, reads: int) -> list[int]:
        """The steps that read the scope and `reads` (SCOPE, HISTORY or STATISTICS), by index."""
        return [index for index, (needs, _) in enumerate(self._steps) if needs == reads]

    def run(self, index: int, context: ReviewContext) -> None:
        """Step `index` with `context`, which holds what it reads (the same for every step but for what
        each later one adds: the history, then the statistics)."""
        self._found[index] = list(self._steps[index][1](self, context))

    def findings(self, context: ReviewContext) -> list[Finding]:
        """Every step's findings, sorted by `Finding.sort_key` (the steps not run yet run with `context`)."""
        for index in range(len(self._steps)):
            if index not in self._found:
                self.run(index, context)
        in_scope = {expense.id for expense in self.scope}
        found = [finding for index in range(len(self._steps)) for finding in self._found[index]]
        kept = [f for f in found if _belongs(f, in_scope, involving=self._involving)]
        return sorted(_unique(kept), key=lambda finding: finding.sort_key)

    def history(self, context: ReviewContext) -> list[ReviewedExpense]:
        """The context's history with the scope's own expenses in it (once each), in order."""
        if self._history is None:
            merged = {expense.id: expense for expense in context.history}
            merged.update((expense.id, expense) for expense in self.scope)
            self._history = sorted(merged.values(), key=patterns.order)
        return self._history

    def candidates(self, context: ReviewContext) -> list[ReviewedExpense]:
        """The expenses a pattern may flag: the scope's; with `involving`, the history's too."""
        return list(self.history(context)) if self._involving else self.scope

    def scope_rule(self, rule: Rule, context: ReviewContext) -> Iterator[Finding]:
        return rules.check(rule, self._charges.of(rule.categories), context)

    def day_rule(self, rule: Rule, context: ReviewContext) -> Iterator[Finding]:
        """A per-day cap: a day's charges, those before the scope too (grouped once for every such rule)."""
        if self._same_days is None:
            days = {expense.spent_on for expense in self.scope}
            self._same_days = rules.Charges(e for e in self.history(context) if e.spent_on in days)
        return rules.check(rule, self._same_days.of(rule.categories), context)


def review(
    scope: Sequence[ReviewedExpense], context: ReviewContext, *, involving: bool = False
) -> list[Finding]:
    """The findings of the expenses in `scope`, sorted by `Finding.sort_key`."""
    return Review(scope, context, involving=involving).findings(context)


Step = Callable[[Review, ReviewContext], Iterable[Finding]]


def _steps(context: ReviewContext) -> list[tuple[int, Step]]:
    """The policy's rules in its order (each rule on the charges of its categories, grouped once: a month
    of a large company is 80,000 charges, and each rule filtering them all again cost more than most
    rules' own checks), then the patterns enabled."""
    found: list[tuple[int, Step]] = []
    for rule in context.policy.rules:
        if isinstance(rule, Cap) and rule.per == "day":
            found.append((HISTORY, lambda review, c, rule=rule: review.day_rule(rule, c)))  # type: ignore[misc]
        else:
            found.append((SCOPE, lambda review, c, rule=rule: review.scope_rule(rule, c)))  # type: ignore[misc]
    settings = context.policy.patterns
    if settings.duplicates.enabled:
        found.append((HISTORY, lambda r, c: patterns.duplicates(r.candidates(c), r.history(c), c)))
    if settings.split_purchases.enabled:
        found.append((HISTORY, lambda r, c: patterns.split_purchases(r.candidates(c), r.history(c), c)))
    if settings.round_numbers.enabled:
        found.append((HISTORY, lambda r, c: patterns.round_numbers(r.candidates(c), r.history(c), c)))
    if settings.refunds.enabled:
        found.append((STATISTICS, lambda r, c: patterns.refunds(r.candidates(c), r.history(c), c)))
    if settings.spikes.enabled:
        found.append((STATISTICS, lambda r, c: anomalies.spikes(r.scope, c)))
    if settings.new_merchant.enabled:
        found.append((STATISTICS, lambda r, c: anomalies.new_merchants(r.scope, r.history(c), c)))
    return found


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
