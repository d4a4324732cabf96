"""What categorize_expense and categorize_expenses accept and return (the public contract, DESIGN §4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from server.jobs.schemas import JobView

Source = Literal["rule", "correction", "history", "model", "mcc", "llm", "fallback"]
Outcome = Literal["applied", "would_apply", "suggested", "needs_review", "already_categorized"]

SOURCE_HELP = (
    "Which stage decided: rule (a company rule for the merchant), correction (people recategorized this "
    "merchant's expenses since the model was trained), history (the merchant was booked one way "
    "consistently), model (the company's model), mcc (how the merchant category code is usually booked), "
    "llm (the LLM, weighed against the company's history), fallback (nothing to go on)."
)


class CategoryGuess(BaseModel):
    code: str
    name: str
    confidence: float = Field(
        description="Calibrated: of answers given with confidence 0.9, about 90% match the company's books."
    )


class CurrentCategory(BaseModel):
    code: str
    name: str
    source: str | None = Field(description="Who set it: human, rule, model or llm.")


class Thresholds(BaseModel):
    review: float = Field(description="Below this confidence an answer needs review.")
    auto_apply: float = Field(description="At or above this confidence an answer may be applied.")


DEGRADED_HELP = (
    "Sources that should have been asked and could not be, and what answered instead; empty when every "
    "source that applies answered. An LLM that is down leaves the local answer (source model, mcc or "
    "fallback), usually with needs_review; a model server that is down leaves the in-process model."
)


class Degraded(BaseModel):
    link: Literal["llm", "model_server"] = Field(description="The source that was skipped.")
    reason: str = Field(
        description="Why: circuit_open, retries_exhausted, deadline_exceeded, budget_exhausted, "
        "invalid_answer, rejected, malformed, ..."
    )
    note: str = Field(description="One line, e.g. 'LLM unavailable (circuit open); local model answer kept'.")


class Categorization(BaseModel):
    expense_id: str | None = Field(description="The expense categorized; null for raw details.")
    category: CategoryGuess | None = Field(description="The best answer; null only when source is fallback.")
    alternatives: list[CategoryGuess] = Field(description="The next most likely categories, best first.")
    source: Source = Field(description=SOURCE_HELP)
    reason: str = Field(description="One line on why.")
    needs_review: bool = Field(description="True: confidence is below the company's review threshold.")
    current: CurrentCategory | None = Field(description="The expense's category now, if it has one.")
    degraded: list[Degraded] = Field(default_factory=list, description=DEGRADED_HELP)


class CategorizeExpenseOutput(Categorization):
    model_version: int | None = Field(description="The company model version that answered; null: none yet.")
    thresholds: Thresholds


class BatchItem(Categorization):
    outcome: Outcome = Field(
        description=(
            "applied: written now; would_apply: dry_run, would have been written; suggested: confident "
            "but not applied (apply=false, below auto-apply, or decided by the LLM); needs_review: unsure; "
            "already_categorized: has a category, which is never changed."
        )
    )


class CategorizeExpensesOutput(BaseModel):
    items: list[BatchItem] = Field(description="One per expense, newest first. Empty: nothing matched.")
    counts: dict[str, int] = Field(description="Items per outcome.")
    sources: dict[str, int] = Field(description="Items per deciding stage.")
    next_cursor: str | None = Field(
        description="For a backlog filter: pass as `cursor`, with the same filters, for the next batch."
    )
    total_matched: int = Field(description="Expenses the ids or the filters selected, across all batches.")
    applied: int = Field(description="Expenses whose category was written by this call.")
    dry_run: bool
    model_version: int | None
    thresholds: Thresholds
    job: JobView | None = Field(
        default=None,
        description="With whole_backlog=true: the job working through the backlog (follow it with "
        "get_job); `items` is then empty. Null otherwise.",
    )


RecategorizeOutcome = Literal["recategorized", "would_recategorize", "unchanged", "declined"]


class RecategorizeExpenseOutput(BaseModel):
    expense_id: str
    before: CurrentCategory | None = Field(description="The category before the call; null: it had none.")
    after: CurrentCategory = Field(
        description="The category the call set (for a dry run or a declined call: would have set)."
    )
    changed: bool = Field(description="True: this call wrote the new category.")
    dry_run: bool
    outcome: RecategorizeOutcome = Field(
        description=(
            "recategorized: written now; would_recategorize: dry_run, nothing written; unchanged: a person "
            "had already set this category, nothing to do; declined: the user did not confirm, nothing "
            "written."
        )
    )
    message: str = Field(description="One line on what happened.")


@dataclass(frozen=True)
class RawExpense:
    """categorize_expense's raw details, as the agent gave them."""

    descriptor: str
    memo: str | None = None
    amount: str | None = None
    currency: str | None = None
    mcc: str | None = None
    merchant: str | None = None
    team: str | None = None
