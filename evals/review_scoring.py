"""Scoring `review_expenses`' findings against an answer key: precision and recall per rule and pattern.

A finding and a key case match when they are of the same rule (kind and id) or pattern and share at
least one expense: a duplicate found as (repeat, original) or as (original, repeat), or a split found
as two of its three charges, is still the case the key names. Then, per label:

    recall     the key's cases that some finding matches, over the key's cases
    precision  the findings that match some key case, over the findings (one outside the key is false)

Labels are `kind:rule` for a policy rule and the kind for a pattern; the targets (issue 22) hold per
rule *kind* (every rule of a kind pooled) and per pattern.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import get_args

from server.demo.review_key import Case
from tools.review.findings import PatternKind, RuleKind

RULE_KINDS: tuple[RuleKind, ...] = get_args(RuleKind)
PATTERN_KINDS: tuple[PatternKind, ...] = get_args(PatternKind)
RULE_TARGET, PATTERN_TARGET = 0.95, 0.85


@dataclass(frozen=True, slots=True)
class Score:
    """One label's counts; `precision`/`recall` are None when there is nothing to divide by."""

    label: str
    cases: int  # in the key
    recalled: int  # key cases some finding matches
    findings: int
    correct: int  # findings that match some key case

    @property
    def recall(self) -> float | None:
        return self.recalled / self.cases if self.cases else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.findings if self.findings else None

    @property
    def target(self) -> float:
        return RULE_TARGET if self.label.split(":")[0] in RULE_KINDS else PATTERN_TARGET

    def meets_target(self) -> bool:
        return all(value is None or value >= self.target for value in (self.precision, self.recall))


def _matches(finding: Case, case: Case) -> bool:
    return finding.label == case.label and not set(finding.refs).isdisjoint(case.refs)


def score(label: str, key: Sequence[Case], findings: Sequence[Case]) -> Score:
    """The counts of one label's key cases and findings (each already of that label)."""
    by_ref: dict[str, list[Case]] = defaultdict(list)
    for case in key:
        for ref in case.refs:
            by_ref[ref].append(case)
    recalled: set[Case] = set()
    correct = 0
    for finding in findings:
        hit = {case for ref in finding.refs for case in by_ref.get(ref, ()) if _matches(finding, case)}
        recalled |= hit
        correct += bool(hit)
    return Score(label, len(key), len(recalled), len(findings), correct)


def score_all(key: Iterable[Case], findings: Iterable[Case]) -> dict[str, list[Score]]:
    """`rules` (one score per rule id), `rule_kinds` (pooled per kind) and `patterns`, in a fixed order."""
    key, findings = list(key), list(findings)
    labels = sorted({case.label for case in key} | {finding.label for finding in findings})
    rules = [
        score(label, _of(key, label), _of(findings, label))
        for label in labels
        if label.split(":")[0] in RULE_KINDS
    ]
    kinds = [_pooled(kind, [s for s in rules if s.label.split(":")[0] == kind]) for kind in RULE_KINDS]
    patterns = [score(kind, _of(key, kind), _of(findings, kind)) for kind in PATTERN_KINDS]
    return {"rules": rules, "rule_kinds": kinds, "patterns": patterns}


def _of(cases: list[Case], label: str) -> list[Case]:
    return [case for case in cases if case.label == label]


def _pooled(kind: str, scores: list[Score]) -> Score:
    return Score(
        kind,
        sum(s.cases for s in scores),
        sum(s.recalled for s in scores),
        sum(s.findings for s in scores),
        sum(s.correct for s in scores),
    )
