"""The corrections stage: what people said about a merchant since the serving model was trained.

A person's correction (`recategorize_expense`) reaches the model only at its next training; until then
the categorizer reads the corrections themselves, by merchant key. When the corrections since training
name one category at least 2/3 of the time, that category wins with the Laplace-smoothed share
(agree + 1) / (total + 2), capped at 0.99: one correction gives 0.67 (shown, but still reviewed at the
default threshold of 0.8), two agreeing 0.75, three 0.8. An explicit company rule still comes first.
The answer it overrules keeps its other guesses as alternatives, rescaled to the confidence left over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from tools.categorize.correction_queries import MerchantCorrections
from tools.categorize.pipeline import MAX_GUESSES, MIN_GUESS, Company, Decision, Guess

MAX_CONFIDENCE = 0.99


@dataclass(frozen=True)
class Verdict:
    code: str
    agree: int
    total: int

    @property
    def confidence(self) -> float:
        return min(MAX_CONFIDENCE, (self.agree + 1) / (self.total + 2))


def verdict(counts: Mapping[str, int]) -> Verdict | None:
    """The category that at least 2/3 of the corrections name; None when people disagree more."""
    total = sum(counts.values())
    if total <= 0:
        return None
    code, agree = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return Verdict(code, agree, total) if 3 * agree >= 2 * total else None


def overrule(
    decision: Decision, found: MerchantCorrections | None, company: Company, merchant: str
) -> Decision:
    """The decision after the merchant's corrections (module docstring); `merchant` names it in the reason."""
    if found is None or decision.source == "rule":
        return decision
    winner = verdict(found.counts)
    if winner is None or winner.code not in company.codes:
        return decision
    confidence = winner.confidence
    return replace(
        decision,
        guesses=(Guess(winner.code, round(confidence, 4)), *_rest(decision.guesses, winner.code, confidence)),
        source="correction",
        reason=_reason(winner, found, merchant),
        needs_review=confidence < company.thresholds.review,
    )


def _reason(winner: Verdict, found: MerchantCorrections, merchant: str) -> str:
    last = f", last on {found.last:%Y-%m-%d}" if found.last != found.first else ""
    return (
        f"corrected by a person: {merchant} was recategorized as {winner.code} "
        f"{winner.agree} of {winner.total} times since {found.first:%Y-%m-%d}{last}"
    )


def _rest(guesses: tuple[Guess, ...], code: str, confidence: float) -> list[Guess]:
    """The other guesses, with what is left of the probability shared as they shared the rest of theirs."""
    others = [g for g in guesses if g.code != code]
    mass = 1.0 - sum(g.confidence for g in guesses if g.code == code)
    if not others or mass <= 0:
        return []
    scale = (1.0 - confidence) / mass
    rescaled = [Guess(g.code, round(g.confidence * scale, 4)) for g in others[: MAX_GUESSES - 1]]
    return [g for g in rescaled if g.confidence >= MIN_GUESS]
