"""The LLM stage: asked only about answers that need review or whose merchant the model never saw,
through the model gateway, constrained to the company's category codes.

What the LLM says is evidence, not a verdict. Its pick is combined with the local answer as a
product of experts: the local probabilities times a likelihood that trusts the LLM's pick at
`LLM_RELIABILITY` (and spreads the rest over the other codes). So a wrong pick where the company's
own history is clear changes nothing, and a good one settles a close call. Whatever it says:

- only a code of the company can come out (the enum, then our own check: anything else is dropped);
- nothing it writes reaches the caller: the reason shown is ours, not the model's prose;
- an answer the LLM decided always needs review and is never applied automatically (`applicable` in
  `service.py`); agreeing never raises a confidence, disagreeing can only lower it;
- a memo that tries to instruct it is just text inside the transaction fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pydantic import BaseModel, Field

from server.gateway import InvalidAnswer
from server.kit.merchants import mcc_description
from server.kit.money import format_amount
from tools.categorize.features import ExpenseFacts
from tools.categorize.pipeline import MAX_GUESSES, Decision, Degradation, Guess, Thresholds

TEMPLATE = "categorize_expense"
LLM_RELIABILITY = 0.6
MISSING = "(none)"


class LLMCategory(BaseModel):
    """Record the category that fits the transaction best, from the listed codes only."""

    category: str = Field(description="Code of the category that fits best.")
    confidence: float = Field(ge=0, le=1, description="How sure you are, 0 to 1.")
    alternatives: list[str] = Field(default_factory=list, max_length=3, description="Other plausible codes.")
    reason: str = Field(default="", max_length=300, description="One short sentence.")


@dataclass(frozen=True)
class CategoryText:
    code: str
    name: str
    description: str | None


def wants_llm(decision: Decision) -> bool:
    """Answers the company's rules did not settle, and that are unsure or about a new merchant."""
    return decision.source in ("model", "mcc", "fallback") and (
        decision.needs_review or not decision.merchant_seen
    )


_KEPT = {"model": "local model answer", "mcc": "MCC-based answer", "fallback": "no answer, needs review"}


def kept(decision: Decision, reason: str) -> Decision:
    """The local answer, standing where the LLM should have weighed in and did not, noting why."""
    what = "LLM answer unusable" if reason == InvalidAnswer.reason else "LLM unavailable"
    instead = f"{_KEPT.get(decision.source, f'{decision.source} answer')} kept"
    return decision.skipping(Degradation.of("llm", what, reason, instead))


def prompt_inputs(
    facts: ExpenseFacts, categories: Sequence[CategoryText], amount_minor: int, currency: str
) -> dict[str, str]:
    """The inputs of `prompts/templates/categorize_expense.md` (the gateway redacts them)."""
    listing = "\n".join(
        f"{c.code}: {c.name}" + (f" — {c.description}" if c.description else "") for c in categories
    )
    described = mcc_description(facts.mcc)
    return {
        "categories": listing,
        "descriptor": facts.descriptor,
        "merchant": facts.merchant or MISSING,
        "mcc": f"{facts.mcc} ({described})" if facts.mcc and described else facts.mcc or MISSING,
        "amount": f"{format_amount(amount_minor, currency)} {currency}",
        "memo": facts.memo or MISSING,
    }


def combine(
    decision: Decision, answer: LLMCategory, codes: Sequence[str], thresholds: Thresholds
) -> Decision:
    """The decision after hearing the LLM (module docstring):

    - its pick is not a company code: unchanged;
    - it agrees with the local answer: unchanged but for the reason (an unmeasured witness does not
      raise a calibrated confidence);
    - it disagrees: the product of experts decides. If the LLM's pick wins, the answer is the LLM's and
      always needs review; if the local answer holds, it does with the lower, combined confidence.
    """
    pick = answer.category
    if pick not in codes or len(codes) < 2:
        return decision
    if decision.best is not None and decision.best.code == pick:
        return replace(decision, reason=f"{decision.reason}; the LLM agrees")
    prior = {g.code: g.confidence for g in decision.guesses}
    rest = max(0.0, 1.0 - sum(prior.values())) / max(1, len(codes) - len(prior))
    other = (1 - LLM_RELIABILITY) / (len(codes) - 1)
    scores = {c: max(prior.get(c, rest), 1e-4) * (LLM_RELIABILITY if c == pick else other) for c in codes}
    total = sum(scores.values())
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:MAX_GUESSES]
    guesses = tuple(Guess(code, round(score / total, 4)) for code, score in ranked)
    if guesses[0].code == pick:
        before = prior.get(pick, 0.0)
        reason = f"the LLM chose {pick} (the {decision.source} answer had it at {before:.0%})"
        return replace(decision, guesses=guesses, source="llm", reason=reason, needs_review=True)
    reason = f"{decision.reason}; the LLM suggested {pick}, which the company's history does not support"
    needs_review = guesses[0].confidence < thresholds.review
    return replace(decision, guesses=guesses, reason=reason, needs_review=needs_review)
