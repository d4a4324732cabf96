"""Pure helpers of the categorize capability: what a batch selects, and the short text summaries."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from server.jobs.schemas import summary as job_summary
from tools.categorize.schemas import CategorizeExpenseOutput, CategorizeExpensesOutput


@dataclass(frozen=True)
class Selection:
    """categorize_expenses' choice of expenses: explicit ids, else a backlog filter and a page."""

    expense_ids: list[str] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team: str | None = None
    employee: str | None = None
    merchant: str | None = None
    limit: int = 200
    cursor: str | None = None

    @property
    def filtered(self) -> bool:
        return any((self.date_from, self.date_to, self.team, self.employee, self.merchant, self.cursor))


def one_summary(output: CategorizeExpenseOutput) -> str:
    subject = output.expense_id or "these details"
    degraded = "".join(f" Degraded: {d.note}." for d in output.degraded)
    if output.category is None:
        return f"No category for {subject}: {output.reason}. Needs review.{degraded}"
    best = f"{output.category.code} ({output.category.name}), confidence {output.category.confidence:.0%}"
    review = " Needs review: show the alternatives to a human." if output.needs_review else ""
    return f"{subject}: {best}, by {output.source}.{review}{degraded}"


def batch_summary(output: CategorizeExpensesOutput, *, declined: bool) -> str:
    if output.job is not None:
        return job_summary(output.job)
    if declined and not output.items:
        return "Nothing was written: the user did not confirm."
    if not output.items:
        return "No expenses matched: nothing to categorize."
    counts = ", ".join(f"{n} {outcome.replace('_', ' ')}" for outcome, n in sorted(output.counts.items()))
    text = f"Categorized {len(output.items)} of {output.total_matched} expenses: {counts}."
    if declined:
        text += " Nothing was written: the user did not confirm."
    elif output.dry_run:
        text += " Dry run: nothing was written."
    notes = Counter(d.note for item in output.items for d in item.degraded)
    text += "".join(f" Degraded: {note} ({n} of them)." for note, n in sorted(notes.items()))
    if output.next_cursor:
        text += " More remain: pass next_cursor."
    return text
