"""Patterns of one expense against what is usual: spikes against the spender's and the team's own
history in the category, and a large first charge at a merchant new to the company (docs/review.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction

from tools.review.amounts import expense_lines, in_company_minor, shown, shown_policy
from tools.review.findings import Finding, ReviewContext, ReviewedExpense, Usual
from tools.review.patterns import order


def spikes(scope: Sequence[ReviewedExpense], context: ReviewContext) -> Iterator[Finding]:
    settings = context.policy.patterns.spikes
    factor = Fraction(settings.factor)
    # Read only for the charges that may be spikes: the others' spenders have none.
    people = {who for who, _, _ in context.employee_usual}
    for expense in sorted((e for e in scope if e.employee in people), key=order):
        if expense.employee is None or expense.amount_minor <= 0 or expense.category is None:
            continue
        month = expense.spent_on.replace(day=1)
        own = context.employee_usual.get((expense.employee, expense.category, month))
        if own is None:  # most charges of a month: their spender's usual was not needed
            continue
        team = context.team_usual.get((expense.team, expense.category, month))
        merchant = context.merchant_usual.get((expense.merchant_id, month))
        usuals = (own, team, merchant)
        if any(u is None or u.count < settings.min_history for u in usuals):
            continue
        if own and team and merchant and all(_above(expense, u, factor) for u in (own, team, merchant)):
            yield _spike(expense, own, team, merchant, factor, context)


def _above(expense: ReviewedExpense, usual: Usual, factor: Fraction) -> bool:
    """More than `factor` times the mean, and more than the largest before (where known)."""
    if usual.total_minor <= 0:
        return False
    over_mean = expense.amount_minor * usual.count > factor * usual.total_minor
    return over_mean and (usual.max_minor is None or expense.amount_minor > usual.max_minor)


def _mean(usual: Usual) -> int:
    return round(Fraction(usual.total_minor, usual.count))


def _spike(
    expense: ReviewedExpense,
    own: Usual,
    team: Usual,
    merchant: Usual,
    factor: Fraction,
    context: ReviewContext,
) -> Finding:
    currency = context.company_currency
    times = Fraction(expense.amount_minor * own.count, own.total_minor)
    return Finding(
        kind="spike",
        rule=None,
        severity="high" if times > 2 * factor else "medium",
        reason=f"{expense.ref} ({shown(expense.amount_minor, currency)}, {expense.category}) is "
        f"{float(times):.1f} times what {expense.employee} usually spends per expense in the category "
        f"({shown(_mean(own), currency)}), above their largest before, and above {factor} times their "
        f"team's usual ({shown(_mean(team), currency)}) and {expense.merchant}'s usual charge "
        f"({shown(_mean(merchant), currency)}).",
        expense_ids=(expense.id,),
        amount_minor=expense.amount_minor,
        evidence={
            "employee_mean": f"{shown(_mean(own), currency)} over {own.count} expenses (12 months before)",
            "employee_max": "unknown" if own.max_minor is None else shown(own.max_minor, currency),
            "team_mean": f"{shown(_mean(team), currency)} over {team.count} expenses (12 months before)",
            "merchant_mean": f"{shown(_mean(merchant), currency)} over {merchant.count} charges (12 months)",
            "threshold": f"more than {factor} times each mean and more than the employee's largest",
            "expenses": expense_lines([expense], currency),
        },
        action="Ask the spender what was bought and check it was approved; it may also be a mistyped amount.",
    )


def new_merchants(
    scope: Sequence[ReviewedExpense], history: Sequence[ReviewedExpense], context: ReviewContext
) -> Iterator[Finding]:
    settings = context.policy.patterns.new_merchant
    limit = in_company_minor(context, settings.first_charge_above)
    firsts: dict[int, ReviewedExpense] = {}
    seen = context.first_seen
    for expense in sorted((e for e in history if seen.get(e.merchant_id) == e.spent_on), key=order):
        if expense.amount_minor > 0:
            firsts.setdefault(expense.merchant_id, expense)
    for expense in sorted((e for e in scope if e.merchant_id in firsts), key=order):
        if firsts[expense.merchant_id].id == expense.id and expense.amount_minor > limit:
            yield _new_merchant(expense, context, shown_policy(context, settings.first_charge_above))


def _new_merchant(expense: ReviewedExpense, context: ReviewContext, above: str) -> Finding:
    currency = context.company_currency
    return Finding(
        kind="new_merchant",
        rule=None,
        severity="medium",
        reason=f"{expense.ref} is the company's first charge ever at {expense.merchant}, and a large one "
        f"({shown(expense.amount_minor, currency)}, more than {above}).",
        expense_ids=(expense.id,),
        amount_minor=expense.amount_minor,
        evidence={
            "first_seen": expense.spent_on.isoformat(),
            "first_charge_above": above,
            "merchant": f"{expense.merchant} ({expense.descriptor})",
            "expenses": expense_lines([expense], currency),
        },
        action="Check that the merchant is real and the purchase approved (a contract or invoice), before "
        "paying or reimbursing.",
    )
