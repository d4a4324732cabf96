"""The categorizer's stages, first decisive one wins (DESIGN §4), as pure functions over one company's
rules, model artifact and thresholds:

1. rule     an explicit merchant -> category rule of the company (imported), confidence 0.99;
2. correction  only without a model to weigh them: people's corrections of the merchant, when two
            thirds of them agree, as sure as their Laplace-smoothed share (with a model: see 4);
3. history  a learned rule: the merchant was booked one way consistently (at least 5 times, at least
            95% of them), and the model, which also sees the team, memo and amount, agrees; the
            confidence is the model's calibrated probability (without a model: the Laplace-smoothed
            share, (agree + 1) / (seen + 2)). When the model disagrees, the model decides: on books
            that drift (a council re-coding its ledger), an old habit is the weaker witness;
4. model    the company model's calibrated probabilities (in process, or from a remote endpoint). People's
            corrections since the model was trained are added to its history tables before it answers
            (`model.Corrections`): an answer, of this stage or the history stage, that follows them
            says so (source `correction`);
5. mcc      no model answer: how the company booked this MCC before, else the categories that list it
            in their `mcc_codes` (a weak prior that always needs review);
6. fallback nothing to go on: no guess, needs review.

The LLM (see `llm.py`) is consulted afterwards, only for answers that need review or whose merchant
the model never saw; abstaining is a `needs_review` flag on whatever answer came out last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from tools.categorize.features import ExpenseFacts, key_of
from tools.categorize.model import Artifact, Corrections, Matrix, top_share

Source = Literal["rule", "correction", "history", "model", "mcc", "llm", "fallback"]
RULE_CONFIDENCE = 0.99
HISTORY_MIN_SEEN = 5
HISTORY_MIN_SHARE = 0.95
LISTED_MCC_CONFIDENCE = 0.5  # split among the categories that list the MCC: always below review
MAX_GUESSES = 4
MIN_GUESS = 0.01


@dataclass(frozen=True)
class Guess:
    code: str
    confidence: float


@dataclass(frozen=True)
class Degradation:
    """A source that should have had its say and could not: which, why (the gateway's reason code; a
    model server answer off the contract: `malformed`) and what answered instead, in words."""

    link: Literal["llm", "model_server"]
    reason: str
    note: str

    @classmethod
    def of(cls, link: Literal["llm", "model_server"], what: str, reason: str, instead: str) -> Degradation:
        """The note reads `what (reason in words); instead`."""
        return cls(link, reason, f"{what} ({reason.replace('_', ' ')}); {instead}")


@dataclass(frozen=True)
class Decision:
    guesses: tuple[Guess, ...]  # best first; empty only for `fallback`
    source: Source
    reason: str
    needs_review: bool
    merchant: str  # the merchant key the decision was made for
    merchant_seen: bool  # the model's training window had this merchant
    degraded: tuple[Degradation, ...] = ()  # sources skipped on the way to this answer

    def skipping(self, degradation: Degradation) -> Decision:
        return replace(self, degraded=(*self.degraded, degradation))

    @property
    def best(self) -> Guess | None:
        return self.guesses[0] if self.guesses else None

    @property
    def confidence(self) -> float:
        return self.guesses[0].confidence if self.guesses else 0.0


NOTHING_APPLIES = 1.0  # no threshold reached the company's target: nothing is written without a person


@dataclass(frozen=True)
class Thresholds:
    review: float  # below: needs_review
    auto_apply: float  # at or above: may be applied without a human

    def with_model(self, chosen: float | None) -> Thresholds:
        """The thresholds a company without its own auto-apply threshold answers with: the one its model
        chose for the target precision (none chose: nothing applies), never below the review threshold."""
        return Thresholds(self.review, max(NOTHING_APPLIES if chosen is None else chosen, self.review))


@dataclass(frozen=True)
class Company:
    """What the stages need to know about the company itself."""

    codes: frozenset[str]
    rules: Mapping[str, str]  # merchant key -> category code (explicit rules)
    mcc_categories: Mapping[str, Sequence[str]]  # MCC -> codes that list it
    thresholds: Thresholds


@dataclass(frozen=True)
class Scores:
    """A model's probabilities, (rows, classes), and its classes: the in-process or a remote model's."""

    classes: Sequence[str]
    matrix: Matrix


def decide(
    company: Company,
    artifact: Artifact | None,
    items: Sequence[ExpenseFacts],
    scores: Scores | None = None,
    corrections: Corrections | None = None,
) -> list[Decision]:
    """One decision per item. Without `scores` the artifact's model scores the items that no explicit
    rule settles (with the `corrections` since training); with neither, there is no model stage."""
    keys = [artifact.key_of(f) if artifact else key_of(f) for f in items]
    ruled = [_rule(company, artifact, key) for key in keys]
    if scores is None and artifact is not None and artifact.fitted:
        pending = [i for i, rule in enumerate(ruled) if rule is None]
        matrix = np.zeros((len(items), len(artifact.classes)))
        if pending:
            matrix[pending] = artifact.predict([items[i] for i in pending], corrections)[0]
        scores = Scores(artifact.classes, matrix)
    corrected = corrections.by_merchant if corrections else {}
    return [
        _decide_one(
            company,
            artifact,
            facts,
            key,
            rule,
            None if scores is None else (scores.classes, scores.matrix[i]),
            corrected.get(key),
        )
        for i, (facts, key, rule) in enumerate(zip(items, keys, ruled, strict=True))
    ]


def _decide_one(
    company: Company,
    artifact: Artifact | None,
    facts: ExpenseFacts,
    key: str,
    decision: Decision | None,  # the company rule's, if one settles it
    scored: tuple[Sequence[str], Matrix] | None,
    corrected: Mapping[str, int] | None,
) -> Decision:
    seen = artifact is not None and artifact.seen(key)
    model = None if decision is not None or scored is None else _model(company, artifact, scored, key)
    known = artifact.merchants.get(key) if artifact else None
    name = known.name if known else facts.merchant or key
    if decision is None and scored is None and corrected:
        decision = _corrected(company, corrected, name, key)
    if decision is None:
        decision = _history(company, artifact, key, model)
    if decision is None:
        decision = model or _mcc(company, artifact, facts, key)
    # Without a model the corrections had their say above (`_corrected`): there is no model to agree.
    if corrected and scored is not None and decision.source != "rule":
        decision = _heeding(decision, corrected, name)
    needs_review = decision.confidence < company.thresholds.review
    return replace(decision, needs_review=needs_review, merchant_seen=seen)


def _rule(company: Company, artifact: Artifact | None, key: str) -> Decision | None:
    code = company.rules.get(key)
    if code is None or code not in company.codes:
        return None
    name = artifact.merchants[key].name if artifact and key in artifact.merchants else key
    return _decision([Guess(code, RULE_CONFIDENCE)], "rule", f"company rule: {name} is booked as {code}", key)


def _history(
    company: Company, artifact: Artifact | None, key: str, model: Decision | None
) -> Decision | None:
    history = artifact.merchants.get(key) if artifact else None
    if history is None:
        return None
    code, agree, seen = top_share(history.counts)
    if seen < HISTORY_MIN_SEEN or agree < HISTORY_MIN_SHARE * seen or code not in company.codes:
        return None
    reason = f"{history.name} was booked as {code} {agree} of {seen} times"
    if model is None:
        return _decision([Guess(code, round((agree + 1) / (seen + 2), 4))], "history", reason, key)
    if model.best is None or model.best.code != code:
        return None
    return replace(model, source="history", reason=f"{reason}, and the company model agrees")


def _model(
    company: Company, artifact: Artifact | None, scored: tuple[Sequence[str], Matrix], key: str
) -> Decision | None:
    classes, row = scored
    guesses = _guesses(zip(classes, row.tolist(), strict=True), company.codes)
    if not guesses:
        return None
    history = artifact.merchants.get(key) if artifact else None
    if history is None:
        reason = "company model, from the MCC, descriptor words and memo (merchant not seen before)"
    else:
        top, agree, seen = top_share(history.counts)
        reason = f"company model; {history.name} was booked as {top} {agree} of {seen} times"
    return _decision(guesses, "model", reason, key)


def _corrected(company: Company, corrected: Mapping[str, int], merchant: str, key: str) -> Decision | None:
    """Without a model to weigh them, people's corrections decide when two thirds of them agree, as sure
    as their Laplace-smoothed share: one correction 0.67 (still reviewed), two 0.75, three 0.8."""
    code, agree, total = top_share(corrected)
    if 3 * agree < 2 * total or code not in company.codes:
        return None
    confidence = min(RULE_CONFIDENCE, (agree + 1) / (total + 2))
    said = _recategorized(merchant, code, agree, total)
    reason = f"corrected by a person, and there is no company model yet: {said}"
    return _decision([Guess(code, round(confidence, 4))], "correction", reason, key)


def _heeding(decision: Decision, corrected: Mapping[str, int], merchant: str) -> Decision:
    """The decision, saying what people's corrections of the merchant since training said: an answer
    they point to is theirs (source `correction`); otherwise the reason says they were outweighed."""
    code, count, total = top_share(corrected)
    best = decision.best
    if best is not None and best.code in corrected:
        said = _recategorized(merchant, best.code, corrected[best.code], total)
        reason = f"corrected by a person since the model was trained: {said}, and the company model agrees"
        return replace(decision, source="correction", reason=reason)
    said = _recategorized(merchant, code, count, total)
    outweighed = f"since the model was trained {said}, not enough yet to outweigh its history"
    return replace(decision, reason=f"{decision.reason}; {outweighed}")


def _recategorized(merchant: str, code: str, count: int, total: int) -> str:
    return f"{merchant} was recategorized as {code} {count} of {total} time{'s' if total > 1 else ''}"


def _mcc(company: Company, artifact: Artifact | None, facts: ExpenseFacts, key: str) -> Decision:
    mcc = facts.mcc
    counts = artifact.mccs.get(mcc) if artifact and mcc else None
    if counts:
        total, k = sum(counts.values()), len(company.codes)
        smoothed = ((code, (n + 1) / (total + k)) for code, n in counts.items())
        guesses = _guesses(smoothed, company.codes)
        if guesses:
            best = guesses[0].code
            booked = f"{counts.get(best, 0)} of {total} expenses"
            reason = f"no model answer; MCC {mcc} was booked as {best} in {booked}"
            return _decision(guesses, "mcc", reason, key)
    listed = [code for code in company.mcc_categories.get(mcc or "", ()) if code in company.codes]
    if listed:
        share = LISTED_MCC_CONFIDENCE / len(listed)
        reason = (
            f"no model answer; categor{'y' if len(listed) == 1 else 'ies'} {', '.join(listed)} list MCC {mcc}"
        )
        return _decision([Guess(code, share) for code in listed[:MAX_GUESSES]], "mcc", reason, key)
    return _decision(
        [], "fallback", "nothing to go on: no rule, no history, no model answer, no MCC match", key
    )


def _guesses(scored: Iterable[tuple[str, float]], codes: frozenset[str]) -> list[Guess]:
    pairs = sorted(((p, c) for c, p in scored if c in codes), reverse=True)
    top = [Guess(code, round(p, 4)) for p, code in pairs[:MAX_GUESSES]]
    return top[:1] + [g for g in top[1:] if g.confidence >= MIN_GUESS]


def _decision(guesses: list[Guess], source: Source, reason: str, key: str) -> Decision:
    return Decision(tuple(guesses), source, reason, needs_review=True, merchant=key, merchant_seen=False)
