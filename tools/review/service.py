"""The review_expenses use case: resolve the scope, read it and its history, run the engine, page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from server.db.engine import plan_each_run
from server.errors import InvalidArgument, NotFound
from server.kit.collector import collector_paused
from server.kit.expense_policies import expense_policy_in_force
from server.kit.expense_policy import NO_POLICY, ExpensePolicy, WeekendSpend
from server.kit.money import money
from server.kit.periods import Period, asked_period, month_to_date
from server.kit.resolve import given, resolve_category, resolve_employee, resolve_team
from tools.review import baselines, company, engine, paging, queries
from tools.review.amounts import in_company_minor
from tools.review.findings import SEVERITY_ORDER, Finding, ReviewContext, ReviewedExpense
from tools.review.patterns import cross_payer_floor, duplicate_floor
from tools.review.schemas import (
    InvolvedExpense,
    ReviewFinding,
    ReviewOutput,
    ReviewRequest,
    ReviewScopeEcho,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller, RecentlyUsed

MAX_EXPENSE_IDS = 100
NO_POLICY_NOTE = (
    "No expense policy is loaded for this company: only the patterns ran (duplicates, split purchases, "
    "spikes, new merchants, round-number runs, refunds without a charge). Load expense_policy.json to "
    "check receipts, caps, blocked merchants, weekend spend, keywords and amounts just below a threshold."
)


@dataclass(frozen=True)
class Reviewed:
    """One review's outcome, all its pages: what the findings cache keeps (docs/review.md#findings-cache)."""

    findings: list[Finding]
    involved: dict[int, ReviewedExpense]  # the expenses the findings name
    expenses_reviewed: int
    policy_version: int | None
    echo: ReviewScopeEcho
    note: str | None


async def review(
    session: AsyncSession,
    caller: Caller,
    today: dt.date,
    secret: bytes,
    request: ReviewRequest,
    cache: RecentlyUsed | None = None,
) -> ReviewOutput:
    arguments = dataclasses.asdict(dataclasses.replace(request, cursor=None, limit=0))
    offset = paging.decode(secret, caller.company_id, arguments, request.cursor) if request.cursor else 0
    reviewed = await _cached(session, caller, today, request, arguments, cache)
    findings = reviewed.findings
    page = findings[offset : offset + request.limit]
    more = offset + request.limit < len(findings)
    return ReviewOutput(
        findings=[_shown(f, reviewed.involved, caller.currency) for f in page],
        summary=dict(sorted(Counter(f.kind for f in findings).items())),
        total=len(findings),
        next_cursor=paging.encode(secret, caller.company_id, arguments, offset + request.limit)
        if more
        else None,
        expenses_reviewed=reviewed.expenses_reviewed,
        currency=caller.currency,
        policy_version=reviewed.policy_version,
        scope=reviewed.echo,
        note=reviewed.note,
    )


async def _cached(
    session: AsyncSession,
    caller: Caller,
    today: dt.date,
    request: ReviewRequest,
    arguments: dict[str, Any],
    cache: RecentlyUsed | None,
) -> Reviewed:
    """The review of these arguments: from the cache when this company's data has not changed since it
    was made (the version is read first, so a change committed during a review only makes it look older
    than it is)."""
    if cache is None:
        return await _reviewed(session, caller, today, request)
    version = await queries.data_version(session, caller.company_id)
    key = ("review", caller.company_id, paging.digest(arguments), today, version)
    found = cache.get(key)
    if isinstance(found, Reviewed):
        return found
    reviewed = await _reviewed(session, caller, today, request)
    cache.put(key, reviewed)
    return reviewed


async def _reviewed(
    session: AsyncSession, caller: Caller, today: dt.date, request: ReviewRequest
) -> Reviewed:
    # Each statement planned for its values: the review's best plans depend on the period and the IN
    # lists, and the generic plan asyncpg's prepared statements get after five runs made warm calls of a
    # team's quarter two to four times slower than the first.
    await plan_each_run(session)
    scope, echo = await _scope(session, caller, today, request)
    in_force = await expense_policy_in_force(session, caller.company_id)
    version, policy = in_force if in_force is not None else (None, NO_POLICY)
    with collector_paused():  # the scope and its history: 170,000 expenses for a month of a large company
        judged = await _judged(session, caller, today, scope, policy, request)
    findings, involved, reviewed = judged  # the expenses dropped before the collector came back on
    return Reviewed(
        findings=findings,
        involved=involved,
        expenses_reviewed=reviewed,
        policy_version=version,
        echo=echo,
        note=_note(reviewed, version, echo),
    )


async def _judged(
    session: AsyncSession,
    caller: Caller,
    today: dt.date,
    scope: queries.Scope,
    policy: ExpensePolicy,
    request: ReviewRequest,
) -> tuple[list[Finding], dict[int, ReviewedExpense], int]:
    """The findings wanted, the expenses they name, and how many expenses the scope has."""
    expenses = await queries.expenses_in_scope(session, scope)
    if not expenses:
        return [], {}, 0
    context = await _context(session, caller, today, scope, expenses, policy)
    pool = {e.id: e for e in context.history} | {e.id: e for e in expenses}
    findings = _wanted(engine.review(expenses, context, involving=bool(scope.expense_ids)), request)
    return findings, {i: pool[i] for f in findings for i in f.expense_ids}, len(expenses)


async def _scope(
    session: AsyncSession, caller: Caller, today: dt.date, request: ReviewRequest
) -> tuple[queries.Scope, ReviewScopeEcho]:
    company_id = caller.company_id
    team = await resolve_team(session, company_id, text) if (text := given(request.team)) else None
    employee = (
        await resolve_employee(session, company_id, text) if (text := given(request.employee)) else None
    )
    category = (
        await resolve_category(session, company_id, text) if (text := given(request.category)) else None
    )
    ids = await _expense_ids(session, company_id, request.expense_ids)
    period = _period(request, today)
    scope = queries.Scope(
        company_id=company_id,
        date_from=None if period is None else period.start,
        date_to=None if period is None else period.end,
        team_id=None if team is None else team.id,
        employee_id=None if employee is None else employee.id,
        category_id=None if category is None else category.id,
        expense_ids=tuple(ids.values()),
    )
    echo = ReviewScopeEcho(
        period=None if period is None else period.label,
        date_from=scope.date_from,
        date_to=scope.date_to,
        team=None if team is None else team.name,
        employee=None if employee is None else employee.email,
        category=None if category is None else category.code,
        expense_ids=list(ids),
    )
    return scope, echo


def _period(request: ReviewRequest, today: dt.date) -> Period | None:
    """The period asked for; with expense_ids and none, no period (the expenses' own dates)."""
    asked = asked_period(request.period, request.date_from, request.date_to, default_end=today)
    if asked is None and not request.expense_ids:
        return month_to_date(today)
    return asked


async def _expense_ids(session: AsyncSession, company_id: int, refs: tuple[str, ...]) -> dict[str, int]:
    wanted = list(dict.fromkeys(ref.strip() for ref in refs if ref.strip()))
    if len(wanted) > MAX_EXPENSE_IDS:
        raise InvalidArgument(
            f"expense_ids: at most {MAX_EXPENSE_IDS} expenses at a time ({len(wanted)} given)"
        )
    found = await queries.refs_to_ids(session, company_id, wanted)
    unknown = [ref for ref in wanted if ref not in found]
    if unknown:
        listed = ", ".join(repr(ref) for ref in unknown[:10])
        raise NotFound(f"no expense with id {listed}; search_expenses lists the ids (e.g. EXP-000123)")
    return {ref: found[ref] for ref in wanted}


async def _context(
    session: AsyncSession,
    caller: Caller,
    today: dt.date,
    scope: queries.Scope,
    expenses: list[ReviewedExpense],
    policy: ExpensePolicy,
) -> ReviewContext:
    company_id = caller.company_id
    country = await company.country(session, company_id)
    thresholds = await company.approval_thresholds(session, company_id, caller.currency)
    rate = await company.policy_rate(
        session, company_id, policy.currency or caller.currency, caller.currency, today
    )
    days = [e.spent_on for e in expenses]
    context = ReviewContext(
        policy=policy,
        company_currency=caller.currency,
        policy_rate=rate,
        approval_thresholds_minor=tuple(t.minor for t in thresholds if t.categories is None),
        thresholds=tuple(t for t in thresholds if t.categories is not None),
        # The calendar only for a rule that reads it: the first one of a process costs 0.2-0.5 s a country.
        holidays=company.holidays(country, min(days), max(days))
        if any(isinstance(rule, WeekendSpend) and rule.holidays for rule in policy.rules)
        else frozenset(),
        company_country=country,
    )
    windows = _windows(context, named=bool(scope.expense_ids))
    context = dataclasses.replace(
        context,
        history=tuple(await queries.history(session, scope, expenses, windows)),
        uncovered_refunds=await queries.uncovered_refunds(
            session, company_id, expenses, policy.patterns.refunds.lookback_days
        )
        if policy.patterns.refunds.enabled
        else None,
    )
    return await _statistics(session, company_id, context, expenses)


def _windows(context: ReviewContext, *, named: bool) -> queries.Windows:
    settings = context.policy.patterns
    short = max(settings.duplicates.window_days, settings.split_purchases.window_days)
    runs = max(short, settings.round_numbers.window_days)
    longest = max(queries.HISTORY_DAYS, runs)
    multiple = Fraction(settings.round_numbers.multiple)
    return queries.Windows(
        short=short,
        after=longest if named else settings.duplicates.window_days,
        runs=runs,
        # A multiple of 50 units is a multiple of 50 minor units in any currency (exponent 0 or more).
        round_every=int(multiple) if multiple.denominator == 1 else None,
        recurring=max(queries.HISTORY_DAYS, short),
        duplicate_floor=duplicate_floor(context.company_currency),
        partners_from=_partners_from(context),
    )


def _partners_from(context: ReviewContext) -> int:
    """The smallest charge (company minor units) that can be a duplicate of another payer's charge or a
    new merchant's large first charge: from here up a charge's same amounts by anyone are read."""
    least = cross_payer_floor(context.company_currency)
    settings = context.policy.patterns.new_merchant
    if settings.enabled:
        # More than the limit is at least its floor plus one minor unit.
        least = min(least, math.floor(in_company_minor(context, settings.first_charge_above)) + 1)
    return least


async def _statistics(
    session: AsyncSession, company_id: int, context: ReviewContext, expenses: list[ReviewedExpense]
) -> ReviewContext:
    """Merchants' first days and the spikes' baselines, for the charges that may need them."""
    settings = context.policy.patterns
    changes: dict[str, Any] = {}
    if settings.new_merchant.enabled:
        # Whole minor units: an amount is above the limit exactly when it is above its floor (an int
        # compared 80,000 times, not a Fraction).
        limit = math.floor(in_company_minor(context, settings.new_merchant.first_charge_above))
        large = [e for e in expenses if e.amount_minor > limit]
        changes["first_seen"] = await queries.first_seen(session, company_id, large) if large else {}
    if settings.spikes.enabled:
        teams = await baselines.team_usual(session, company_id, expenses)
        factor = Fraction(settings.spikes.factor)
        candidates = baselines.standing_out(expenses, teams, factor, settings.spikes.min_history)
        own = await baselines.employee_usual(session, company_id, candidates)
        # A merchant's usual is read only for the charges above their spender's usual too (the merchants
        # of a month's candidates are the busiest ones: a second of PostgreSQL for nothing).
        candidates = baselines.above_own(candidates, own, factor, settings.spikes.min_history)
        changes["team_usual"] = teams
        changes["employee_usual"] = own
        changes["merchant_usual"] = await baselines.merchant_usual(session, company_id, candidates)
    return dataclasses.replace(context, **changes)


def _wanted(findings: list[Finding], request: ReviewRequest) -> list[Finding]:
    """The kinds and severities asked for."""
    floor = SEVERITY_ORDER[request.min_severity] if request.min_severity else len(SEVERITY_ORDER)
    return [
        f
        for f in findings
        if (not request.kinds or f.kind in request.kinds) and SEVERITY_ORDER[f.severity] <= floor
    ]


def _shown(finding: Finding, pool: dict[int, ReviewedExpense], currency: str) -> ReviewFinding:
    return ReviewFinding(
        kind=finding.kind,
        rule=finding.rule,
        severity=finding.severity,
        reason=finding.reason,
        action=finding.action,
        amount_at_stake=money(finding.amount_minor, currency),
        expenses=[_involved(pool[expense_id], currency) for expense_id in finding.expense_ids],
        evidence=dict(finding.evidence),
    )


def _involved(expense: ReviewedExpense, currency: str) -> InvolvedExpense:
    return InvolvedExpense(
        id=expense.ref,
        date=expense.spent_on,
        merchant=expense.merchant,
        employee=expense.employee,
        amount=money(expense.amount_minor, currency),
    )


def _note(reviewed: int, version: int | None, echo: ReviewScopeEcho) -> str | None:
    if not reviewed:
        where = f" in {echo.period}" if echo.period else ""
        narrowed = ", ".join(
            f"{name} {value}"
            for name, value in (("team", echo.team), ("employee", echo.employee), ("category", echo.category))
            if value
        )
        return f"No expenses{where}{' for ' + narrowed if narrowed else ''}: nothing to review, no findings."
    return NO_POLICY_NOTE if version is None else None


def summary_text(output: ReviewOutput) -> str:
    """One line for clients that read text only."""
    where = output.scope.period or ", ".join(output.scope.expense_ids)
    if output.total == 0:
        return f"Review of {where}: {output.expenses_reviewed} expenses, no findings." + (
            f" {output.note}" if output.note else ""
        )
    counts = ", ".join(f"{kind} {count}" for kind, count in output.summary.items())
    more = " More: pass next_cursor." if output.next_cursor else ""
    return (
        f"Review of {where}: {output.expenses_reviewed} expenses, {output.total} findings ({counts}); "
        f"showing {len(output.findings)}.{more}"
    )
