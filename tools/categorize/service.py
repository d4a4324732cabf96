"""The categorize use cases: one expense, a batch, and writing the confident answers of a batch."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.errors import InvalidArgument, NotFound
from server.kit import selection as expense_selection
from server.kit.fx import to_company_currency
from server.kit.money import MoneyError, currency_exponent, normalize_currency, to_minor
from server.kit.resolve import given, resolve_team
from tools.categorize import pipeline, queries
from tools.categorize.books import Books, open_books
from tools.categorize.facts import ExpenseFactsRow, by_refs, facts_of, facts_of_row, major, with_dims
from tools.categorize.features import ExpenseFacts
from tools.categorize.logic import Selection
from tools.categorize.schemas import (
    BatchItem,
    Categorization,
    CategorizeExpenseOutput,
    CategorizeExpensesOutput,
    CategoryGuess,
    CurrentCategory,
    Degraded,
    Outcome,
    RawExpense,
)
from tools.categorize.stages import Progress, decide

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import AppContext, Caller

log = logging.getLogger("outlay.categorize")
# How Expense.category_source records an applied answer (the column's values: human/rule/model/llm).
# Only a company rule is a "rule": what the categorizer learned is "model", which training leaves out,
# so that the model never learns from its own answers (an answer that people's corrections decided
# included: the corrected expenses themselves are what it learns from).
STORED_SOURCE = {"rule": "rule", "correction": "model", "history": "model", "model": "model", "mcc": "model"}


# ---- one expense -----------------------------------------------------------------------------------


async def categorize_one(
    app: AppContext, session: AsyncSession, caller: Caller, *, ref: str | None, raw: RawExpense | None
) -> CategorizeExpenseOutput:
    books = await open_books(app, session, caller)
    if ref is not None:
        rows = await by_refs(session, caller.company_id, [ref.strip()])
        if not rows:
            raise NotFound(f"no expense with id {ref.strip()!r}; search_expenses lists ids")
        facts, amounts, current = (
            [facts_of(rows[0], caller.currency, books.parents)],
            [(rows[0].amount_company_minor)],
            _current(rows[0]),
        )
    else:
        assert raw is not None
        one, minor = await raw_facts(session, caller, raw, app.clock.today(), books.parents)
        facts, amounts, current = [one], [minor], None
    decision = (await decide(app, caller, session, books, facts, amounts))[0]
    answer = categorization(books, decision, ref.strip() if ref else None, current)
    return CategorizeExpenseOutput(
        **answer.model_dump(),
        model_version=books.version.version if books.version else None,
        thresholds=books.thresholds,
    )


async def raw_facts(
    session: AsyncSession,
    caller: Caller,
    raw: RawExpense,
    today: dt.date,
    parents: Mapping[str, tuple[str, ...]],
) -> tuple[ExpenseFacts, int]:
    """Facts from what the agent typed; the amount in company currency (converted at the company's
    rate for the currency when there is one, else taken as is: it only sets an amount band)."""
    minor = 0
    if (amount := given(raw.amount)) is not None:
        try:
            currency = normalize_currency(raw.currency or caller.currency)
            minor = to_minor(amount, currency)
        except MoneyError as exc:
            raise InvalidArgument(f"amount: {exc}") from None
        try:
            converted = await to_company_currency(
                session, caller.company_id, caller.currency, minor, currency, today
            )
            minor = converted.amount_minor
        except InvalidArgument:
            shift = currency_exponent(caller.currency) - currency_exponent(currency)
            minor = round(minor * 10.0**shift)
    team = await resolve_team(session, caller.company_id, text) if (text := given(raw.team)) else None
    facts = ExpenseFacts(
        descriptor=raw.descriptor.strip(),
        merchant=given(raw.merchant),
        mcc=given(raw.mcc),
        memo=given(raw.memo),
        amount=major(minor, caller.currency),
        team=team.name if team else None,
        parents=parents.get(team.name, ()) if team else (),
    )
    return facts, minor


# ---- a batch ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    rows: list[ExpenseFactsRow]
    total_matched: int
    next_cursor: str | None


async def select_batch(session: AsyncSession, caller: Caller, secret: bytes, selection: Selection) -> Batch:
    """The listed expenses (each must exist), or a page of the filtered uncategorized backlog."""
    if selection.expense_ids == []:  # not "no filter": with apply=true that would write the whole backlog
        raise InvalidArgument(
            "expense_ids: an empty list selects nothing; give ids, or omit expense_ids to work on the "
            "backlog of a filter"
        )
    if selection.expense_ids:
        if selection.filtered:
            raise InvalidArgument("pass either expense_ids or backlog filters and cursor, not both")
        refs = list(dict.fromkeys(ref.strip() for ref in selection.expense_ids))
        found = {r.ref: r for r in await by_refs(session, caller.company_id, refs)}
        if missing := [ref for ref in refs if ref not in found]:
            raise NotFound(
                f"no expense with id {', '.join(repr(m) for m in missing[:5])}; search_expenses lists ids"
            )
        return Batch([found[ref] for ref in refs], len(refs), None)
    request = expense_selection.SelectionRequest(
        date_from=selection.date_from,
        date_to=selection.date_to,
        team=selection.team,
        employee=selection.employee,
        merchant=selection.merchant,
        uncategorized_only=True,
        limit=selection.limit,
        cursor=selection.cursor,
    )
    filters = (await expense_selection.resolve(session, caller, request)).filters
    page = await expense_selection.page(session, secret, filters, cursor=request.cursor, limit=request.limit)
    # Exact: "categorized n of N" needs N, and a backlog is the expenses without a category (few).
    backlog = await expense_selection.count_matching(session, filters, cap=None)
    rows = await with_dims(session, caller.company_id, [facts_of_row(row) for row in page.rows])
    return Batch(rows, backlog.count, page.next_cursor)


async def categorize_batch(
    app: AppContext,
    session: AsyncSession,
    caller: Caller,
    batch: Batch,
    *,
    apply: bool,
    dry_run: bool,
    progress: Progress | None = None,
) -> CategorizeExpensesOutput:
    books = await open_books(app, session, caller)
    facts = [facts_of(row, caller.currency, books.parents) for row in batch.rows]
    report = progress or _silent
    await report(0, len(facts), f"categorizing {len(facts)} expenses")
    decisions = await decide(
        app, caller, session, books, facts, [r.amount_company_minor for r in batch.rows], progress=report
    )
    items, assignments = [], []
    for row, decision in zip(batch.rows, decisions, strict=True):
        outcome = _outcome(books, row, decision, apply=apply, dry_run=dry_run)
        if outcome in ("applied", "would_apply"):
            assignments.append(_assignment(books, row, decision))
        items.append(
            BatchItem(**categorization(books, decision, row.ref, _current(row)).model_dump(), outcome=outcome)
        )
    written: set[str] = set()
    if apply and not dry_run and assignments:
        await report(len(facts), len(facts), f"applying {len(assignments)} categories")
        written = await _apply(session, caller, books, assignments)
        # Categorized by someone else since we read it: theirs stays, and says so.
        raced = {a.ref for a in assignments} - written
        items = [
            i.model_copy(update={"outcome": "already_categorized"}) if i.expense_id in raced else i
            for i in items
        ]
    return CategorizeExpensesOutput(
        items=items,
        counts=dict(Counter(item.outcome for item in items)),
        sources=dict(Counter(item.source for item in items)),
        next_cursor=batch.next_cursor,
        total_matched=batch.total_matched,
        applied=len(written),
        dry_run=dry_run,
        model_version=books.version.version if books.version else None,
        thresholds=books.thresholds,
    )


def _outcome(
    books: Books, row: ExpenseFactsRow, decision: pipeline.Decision, *, apply: bool, dry_run: bool
) -> Outcome:
    if row.category_code is not None:
        return "already_categorized"
    if decision.needs_review:
        return "needs_review"
    if apply and applicable(books, decision):
        return "would_apply" if dry_run else "applied"
    return "suggested"


def applicable(books: Books, decision: pipeline.Decision) -> bool:
    """Confident enough to write without a human: at or above the company's auto-apply threshold, and
    not decided by the LLM (whose answers are always suggestions)."""
    best = decision.best
    return (
        best is not None
        and decision.source in STORED_SOURCE
        and best.confidence >= books.company.thresholds.auto_apply
        and best.code in books.categories
    )


def _assignment(books: Books, row: ExpenseFactsRow, decision: pipeline.Decision) -> queries.Assignment:
    best = decision.best
    assert best is not None
    return queries.Assignment(
        expense_id=row.id,
        ref=row.ref,
        category_id=books.categories[best.code].id,
        code=best.code,
        source=STORED_SOURCE[decision.source],
        confidence=best.confidence,
        stage=decision.source,
    )


async def _apply(
    session: AsyncSession, caller: Caller, books: Books, assignments: list[queries.Assignment]
) -> set[str]:
    """Write what is still uncategorized; returns the refs written."""
    open_ids = await queries.still_uncategorized(
        session, caller.company_id, [a.expense_id for a in assignments]
    )
    chosen = [a for a in assignments if a.expense_id in open_ids]
    version = books.version.version if books.version else None
    await queries.apply(session, caller.company_id, chosen, actor=caller.subject, model_version=version)
    return {a.ref for a in chosen}


# ---- shaping ---------------------------------------------------------------------------------------


def categorization(
    books: Books, decision: pipeline.Decision, ref: str | None, current: CurrentCategory | None
) -> Categorization:
    guesses = [_guess(books, g) for g in decision.guesses]
    return Categorization(
        expense_id=ref,
        category=guesses[0] if guesses else None,
        alternatives=guesses[1:],
        source=decision.source,
        reason=decision.reason,
        needs_review=decision.needs_review,
        current=current,
        degraded=[Degraded(link=d.link, reason=d.reason, note=d.note) for d in decision.degraded],
    )


def _guess(books: Books, guess: pipeline.Guess) -> CategoryGuess:
    return CategoryGuess(code=guess.code, name=books.categories[guess.code].name, confidence=guess.confidence)


def _current(row: ExpenseFactsRow) -> CurrentCategory | None:
    if row.category_code is None or row.category_name is None:
        return None
    return CurrentCategory(code=row.category_code, name=row.category_name, source=row.category_source)


async def _silent(done: float, total: float, message: str) -> None:
    return None
