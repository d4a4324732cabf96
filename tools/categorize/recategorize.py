"""recategorize_expense: a person sets an expense's category. The category becomes the person's (source
`human`, no confidence), the correction is kept for the categorizer (`corrections.py` reads it at once,
training learns from the expense), the monthly rollup follows, and the change is recorded once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.db.models import CategorySource
from server.errors import InvalidArgument, NotFound
from server.kit.merchants import merchant_key
from server.kit.resolve import given, resolve_category
from tools.categorize import correction_queries
from tools.categorize.correction_queries import Correction, ExpenseCategory
from tools.categorize.schemas import CurrentCategory, RecategorizeExpenseOutput, RecategorizeOutcome

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.context import Caller


@dataclass(frozen=True)
class Request:
    expense_id: str
    category: str
    reason: str | None
    dry_run: bool
    confirmed: bool  # the user confirmed the write (or the client could not be asked)


async def recategorize(session: AsyncSession, caller: Caller, request: Request) -> RecategorizeExpenseOutput:
    ref, wanted = _given(request)
    expense = await correction_queries.expense_category(session, caller.company_id, ref)
    if expense is None:
        raise NotFound(f"no expense with id {ref!r}; search_expenses lists ids")
    category = await resolve_category(session, caller.company_id, wanted)
    before = current(expense)
    after = CurrentCategory(code=category.code, name=category.name, source=CategorySource.HUMAN.value)
    outcome = _outcome(before, after, request)
    if outcome == "recategorized":
        correction = Correction(
            expense=expense,
            category_id=category.id,
            code=category.code,
            merchant_key=merchant_key(expense.merchant),
            subject=caller.subject,
            reason=given(request.reason),
        )
        await correction_queries.correct(session, caller.company_id, correction)
    return RecategorizeExpenseOutput(
        expense_id=expense.ref,
        before=before,
        after=after,
        changed=outcome == "recategorized",
        dry_run=request.dry_run,
        outcome=outcome,
        message=message(expense.ref, before, after, outcome),
    )


def _given(request: Request) -> tuple[str, str]:
    ref, category = given(request.expense_id), given(request.category)
    if ref is None:
        raise InvalidArgument("expense_id is empty: pass an expense id such as 'EXP-000123'")
    if category is None:
        raise InvalidArgument(
            "category is empty: pass a category code or name; outlay://categories lists them"
        )
    return ref, category


def _outcome(before: CurrentCategory | None, after: CurrentCategory, request: Request) -> RecategorizeOutcome:
    if before == after:
        return "unchanged"
    if request.dry_run:
        return "would_recategorize"
    return "recategorized" if request.confirmed else "declined"


def current(expense: ExpenseCategory) -> CurrentCategory | None:
    if expense.code is None or expense.name is None:
        return None
    return CurrentCategory(code=expense.code, name=expense.name, source=expense.source)


def message(
    ref: str, before: CurrentCategory | None, after: CurrentCategory, outcome: RecategorizeOutcome
) -> str:
    new, old = _label(after), _label(before)
    if outcome == "unchanged":
        return f"{ref} is already {new}: nothing changed."
    if outcome == "would_recategorize":
        return f"Dry run: {ref} would change from {old} to {new}. Nothing was written."
    if outcome == "declined":
        return f"Nothing was written: the user did not confirm. {ref} stays {old}."
    return f"{ref} changed from {old} to {new}; the categorizer takes the correction into account."


# Who set a category (Expense.category_source), in words.
SETTERS = {"human": "a person", "rule": "a company rule", "model": "the categorizer", "llm": "the LLM"}


def _label(category: CurrentCategory | None) -> str:
    if category is None:
        return "uncategorized"
    setter = SETTERS.get(category.source or "", "an unknown source")
    return f"{category.code} ({category.name}, set by {setter})"
