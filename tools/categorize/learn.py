"""Training a company model from its categorized history, with a time-based split.

    examples, oldest first (at most the newest `max_rows`), each weighted by recency
    ├── early 80% ── model A ──> its answers on the late 20% (held out)
    │                             ├── temperature, confidence trees (each half scored by trees
    │                             │   fitted on the other half: honest confidences)
    │                             ├── the auto-apply threshold for the company's target precision
    │                             └── holdout metrics of the whole pipeline
    └── all ── model A continued for a few epochs: the served model, with A's calibration

Recency: a row weighs 0.5 ** (its age in days / `half_life_days`), in the fit and in the history
counts, because books drift (a council re-codes its ledger; a team moves to another supplier). A
row a person corrected weighs `Encoding.correction_weight` more: a correction is the freshest word on
it (and the served model counts a correction made after training by the same weight).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from server.kit.merchants import merchant_key
from tools.categorize import auto_apply, confidence, metrics, softmax
from tools.categorize.features import ExpenseFacts, key_of
from tools.categorize.history import (
    PER_TABLE,
    Histories,
    class_features,
    count_matrix,
    distinct,
    learn_vocabulary,
    lookup,
    out_of_fold,
    table_keys,
)
from tools.categorize.model import Artifact, Encoding, MerchantHistory, counts_table
from tools.categorize.pipeline import Company, Scores, Thresholds, decide

MIN_EXAMPLES = 20  # fewer labelled expenses: rules and MCC only
MIN_CALIBRATION = 60  # fewer held-out answers: no calibration, no auto-apply threshold (trees: TREES_FROM)
F32 = np.float32
Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Settings:
    epochs: int = 4
    final_epochs: int = 2  # of the served model over all rows, continuing model A
    half_life_days: float = 180.0
    max_rows: int = 300_000  # the newest only: a bound on time and memory, and the books' current habits
    holdout_share: float = 0.2
    min_count: int = 2  # tokens of fewer rows are left out
    folds: int = 5  # out-of-fold history for the training rows
    schedule: softmax.Schedule = field(default_factory=softmax.Schedule)
    encoding: Encoding = field(default_factory=Encoding)


@dataclass(frozen=True)
class Example:
    facts: ExpenseFacts
    code: str
    day: dt.date
    ref: str = ""
    corrected: bool = False  # a person corrected its category (recategorize_expense)


@dataclass(frozen=True)
class Trained:
    artifact: Artifact
    rows: int
    trained_from: dt.date | None
    trained_until: dt.date | None
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class Heldout:
    """Model A and its honest answers on the held-out slice (what the metrics and the eval score)."""

    model: Artifact
    examples: list[Example]
    scores: Scores
    chosen: auto_apply.Chosen
    trained_rows: int  # model A learned from this many (the rows before the held-out ones)


class _Prepared:
    """The training rows encoded once: tokens, history keys, labels, weights, folds."""

    def __init__(self, examples: Sequence[Example], mcc_categories: Mapping[str, Sequence[str]], s: Settings):
        self.classes = sorted({e.code for e in examples})
        index = {code: i for i, code in enumerate(self.classes)}
        self.labels = np.fromiter((index[e.code] for e in examples), np.int32, len(examples))
        unique, which = distinct([e.facts for e in examples])
        self.X, self.vocabulary = learn_vocabulary(unique, which, mcc_categories, s.min_count)
        self.key_ids, self.key_maps = table_keys(unique, which, s.encoding.tables)
        days = np.fromiter((e.day.toordinal() for e in examples), np.float64, len(examples))
        recency = 0.5 ** ((days.max() - days) / s.half_life_days) if len(days) else days
        corrected = s.encoding.correction_weight
        boost = np.fromiter((corrected if e.corrected else 1.0 for e in examples), np.float64)
        self.weights = (recency * boost).astype(F32)
        self.fold = np.random.default_rng(s.schedule.seed + 1).integers(0, s.folds, len(examples))

    def part(self, rows: Array, s: Settings) -> tuple[Any, Any, Array, Array]:
        """The rows' matrices, identical (tokens, keys, fold, label) rows once with their weights summed,
        with out-of-fold history features."""
        labels, weights, fold = self.labels[rows], self.weights[rows], self.fold[rows]
        ids = [k[rows] for k in self.key_ids]
        X = self.X[rows]
        extra = np.ascontiguousarray(np.column_stack([*ids, fold, labels]).astype(np.int64))
        groups: dict[bytes, int] = {}
        ip, ind = X.indptr, X.indices
        group = np.fromiter(
            (
                groups.setdefault(ind[ip[i] : ip[i + 1]].tobytes() + extra[i].tobytes(), len(groups))
                for i in range(len(rows))
            ),
            np.int64,
            len(rows),
        )
        first = np.full(len(groups), -1, np.int64)
        first[group[::-1]] = np.arange(len(rows))[::-1]
        summed = np.bincount(group, weights=weights, minlength=len(groups)).astype(F32)
        del groups, group, extra
        oof = out_of_fold(ids, labels, weights, len(self.classes), fold, s.folds, s.encoding.keep, first)
        T = class_features(oof, len(first), len(self.classes))
        return X[first], T, labels[first], summed

    def histories(self, rows: Array, s: Settings) -> Histories:
        counts = [
            count_matrix(ids[rows], self.labels[rows], self.weights[rows], len(known), len(self.classes))
            for ids, known in zip(self.key_ids, self.key_maps, strict=True)
        ]
        return Histories(list(s.encoding.tables), self.key_maps, counts)


def train(
    examples: Sequence[Example],
    mcc_categories: Mapping[str, Sequence[str]],
    thresholds: Thresholds,
    target: float = 0.97,
    s: Settings = Settings(),
    *,
    auto_apply_given: bool = False,
) -> Trained:
    """The served model with its calibration and auto-apply threshold, and the holdout metrics: scored at
    the auto-apply threshold the company will answer with (its own when `auto_apply_given`, else the one
    the model chose)."""
    started = time.process_time()
    ordered = sorted(examples, key=lambda e: e.day)[-s.max_rows :]
    artifact = _tables(ordered, mcc_categories, s)
    found: dict[str, Any] = {"rows": len(ordered)}
    held_out = False
    if len(ordered) >= MIN_EXAMPLES and len(artifact.classes) > 1:
        prepared = _Prepared(ordered, mcc_categories, s)
        start, held = _backtest(prepared, ordered, mcc_categories, s, target)
        if held is not None:
            answering = thresholds if auto_apply_given else thresholds.with_model(held.model.auto_apply)
            company = Company(frozenset(artifact.classes), {}, artifact.mcc_categories, answering)
            found.update(_held_metrics(held, company))
            # The served model keeps model A's calibration: nothing is held out from it to calibrate on.
            artifact.temperature, artifact.trees = held.model.temperature, held.model.trees
            artifact.auto_apply, held_out = held.model.auto_apply, True
        _final(prepared, artifact, start, s)
    found["calibrated"] = held_out
    found["cpu_seconds"] = round(time.process_time() - started, 2)
    first, last = (ordered[0].day, ordered[-1].day) if ordered else (None, None)
    return Trained(artifact, len(ordered), first, last, found)


def backtest(
    examples: Sequence[Example],
    mcc_categories: Mapping[str, Sequence[str]],
    target: float = 0.97,
    s: Settings = Settings(),
) -> Heldout | None:
    """Model A's honest answers on the held-out slice; None with too little history to hold any out."""
    ordered = sorted(examples, key=lambda e: e.day)[-s.max_rows :]
    if len(ordered) < MIN_EXAMPLES or len({e.code for e in ordered}) < 2:
        return None
    return _backtest(_Prepared(ordered, mcc_categories, s), ordered, mcc_categories, s, target)[1]


def _backtest(
    p: _Prepared,
    ordered: Sequence[Example],
    mcc_categories: Mapping[str, Sequence[str]],
    s: Settings,
    target: float,
) -> tuple[softmax.Weights | None, Heldout | None]:
    """Model A on the early rows, calibrated on the late ones: its weights, to continue, and its
    held-out answers."""
    cut = split_by_time(ordered, s.holdout_share)
    if cut < MIN_EXAMPLES or len(ordered) - cut < MIN_CALIBRATION:
        return None, None
    early, late = np.arange(cut), np.arange(cut, len(ordered))
    classes, features = len(p.classes), PER_TABLE * len(s.encoding.tables)
    X, T, labels, weights = p.part(early, s)
    start = softmax.Weights.zeros(X.shape[1], classes, features)
    start = softmax.train(X, T, labels, weights, start, s.epochs, s.schedule)
    history = p.histories(early, s)
    per_table = [
        lookup(c, ids[late], s.encoding.keep) for c, ids in zip(history.counts, p.key_ids, strict=True)
    ]
    Z = softmax.logits(p.X[late], class_features(per_table, len(late), classes), start.W, start.b, start.v)
    seen = per_table[s.encoding.tables.index("key")][1] > 0
    # Model A's own lookup tables, of the early rows: the history stage must not know the late ones.
    model_a = replace(
        _tables(ordered[:cut], mcc_categories, s),
        classes=p.classes,
        vocabulary=p.vocabulary,
        W=start.W.copy(),
        b=start.b.copy(),
        v=start.v.copy(),
        histories=history,
    )
    chosen_tables = s.encoding.confidence_counts(per_table)
    P, honest, chosen = _calibrate(model_a, Z, p.labels[late], seen, chosen_tables, target)
    scores = Scores(p.classes, confidence.with_top(P, honest))
    held = Heldout(model_a, list(ordered[cut:]), scores, chosen, cut)
    return start, held


def _calibrate(
    artifact: Artifact, Z: Array, labels: Array, seen: Array, per_table: list[Any], target: float
) -> tuple[Array, Array, auto_apply.Chosen]:
    """Temperature, confidence trees and auto-apply threshold onto `artifact`, from held-out answers
    (oldest first); the calibrated probabilities and the honest confidences."""
    step = max(1, len(labels) // 20_000)  # one number: 20k answers are plenty
    artifact.temperature = confidence.fit_temperature(Z[::step], labels[::step])
    P = softmax.softmax(Z / artifact.temperature)
    correct = (P.argmax(axis=1) == labels).astype(float)
    honest = P.max(axis=1)  # a single temperature, fitted on all of them, is honest enough
    if len(labels) >= confidence.TREES_FROM:
        half = len(labels) // 2
        X = confidence.features(P, per_table, seen)
        a, b = confidence.fit_trees(X[:half], correct[:half]), confidence.fit_trees(X[half:], correct[half:])
        honest = np.concatenate(
            [confidence.predict_trees(b, X[:half]), confidence.predict_trees(a, X[half:])]
        )
        artifact.trees = confidence.averaged(a, b)
    chosen = auto_apply.choose(honest, correct.astype(bool), target)
    artifact.auto_apply = chosen.threshold
    return P, honest, chosen


def _final(p: _Prepared, artifact: Artifact, start: softmax.Weights | None, s: Settings) -> None:
    """The served weights and history tables, over all rows."""
    every = np.arange(len(p.labels))
    X, T, labels, weights = p.part(every, s)
    classes, features = len(p.classes), PER_TABLE * len(s.encoding.tables)
    epochs = s.final_epochs if start is not None else s.epochs
    weights_now = start or softmax.Weights.zeros(X.shape[1], classes, features)
    trained = softmax.train(X, T, labels, weights, weights_now, epochs, s.schedule)
    artifact.vocabulary, artifact.W, artifact.b, artifact.v = p.vocabulary, trained.W, trained.b, trained.v
    artifact.histories = p.histories(every, s)


def _tables(ordered: Sequence[Example], mcc_categories: Mapping[str, Sequence[str]], s: Settings) -> Artifact:
    """An artifact with the plain lookup tables and no model yet (enough for rules, history and MCC)."""
    classes = sorted({e.code for e in ordered})
    keys = [key_of(e.facts) for e in ordered]
    return Artifact(
        classes=classes,
        encoding=s.encoding,
        vocabulary={},
        W=np.zeros((0, len(classes)), F32),
        b=np.zeros(len(classes), F32),
        v=np.zeros(PER_TABLE * len(s.encoding.tables), F32),
        histories=Histories([], [], []),
        mcc_categories={mcc: list(found) for mcc, found in mcc_categories.items()},
        merchants=_merchants(ordered, keys),
        mccs=counts_table(Counter((e.facts.mcc, e.code) for e in ordered if e.facts.mcc)),
        aliases=_aliases(ordered, keys),
    )


def split_by_time(ordered: Sequence[Example], holdout_share: float = 0.2) -> int:
    """How many of the examples (oldest first) are early; a day never straddles the cut."""
    if not ordered:
        return 0
    cut_day = ordered[min(len(ordered) - 1, int(len(ordered) * (1 - holdout_share)))].day
    return next(i for i, e in enumerate(ordered) if e.day >= cut_day)


def _held_metrics(held: Heldout, company: Company) -> dict[str, Any]:
    found: dict[str, Any] = {
        "holdout_from": held.examples[0].day.isoformat(),
        "holdout": holdout_metrics(company, held.model, held.examples, held.scores),
        "auto_apply": {
            "threshold": held.chosen.threshold,
            "coverage": round(held.chosen.coverage, 4),
            "precision_lower_bound": None
            if held.chosen.lower_bound is None
            else round(held.chosen.lower_bound, 4),
            "answers": held.chosen.answers,
        },
    }
    return found


def holdout_metrics(
    company: Company, artifact: Artifact, held: Sequence[Example], scores: Scores
) -> dict[str, Any]:
    """The pipeline (learned rules, then the model's `scores`) on held-out examples, against the books."""
    decisions = decide(company, artifact, [e.facts for e in held], scores)
    predicted = [d.best.code if d.best else None for d in decisions]
    sure = [d.confidence for d in decisions]
    truth = [e.code for e in held]
    auto = company.thresholds.auto_apply
    found = metrics.summary(predicted, sure, truth, auto)
    unseen = [i for i, d in enumerate(decisions) if not d.merchant_seen]
    if unseen and len(unseen) < len(held):
        found["unseen_merchants"] = metrics.summary(
            [predicted[i] for i in unseen], [sure[i] for i in unseen], [truth[i] for i in unseen], auto
        )
    return found


def _merchants(examples: Sequence[Example], keys: Sequence[str]) -> dict[str, MerchantHistory]:
    spelled = Counter(zip(keys, (e.facts.merchant or e.facts.descriptor for e in examples), strict=True))
    names: dict[str, tuple[int, str]] = {}
    for (key, name), n in spelled.items():  # the most common spelling, ties by name
        if key not in names or (-n, name) < (-names[key][0], names[key][1]):
            names[key] = (n, name)
    table = counts_table(Counter(zip(keys, (e.code for e in examples), strict=True)))
    return {key: MerchantHistory(names[key][1], counts) for key, counts in table.items()}


def _aliases(examples: Sequence[Example], keys: Sequence[str]) -> dict[str, str]:
    """Descriptor keys the books file under a different merchant name, by majority."""
    seen: dict[str, Counter[str]] = {}
    for example, key in zip(examples, keys, strict=True):
        raw = merchant_key(example.facts.descriptor)
        if raw != key:
            seen.setdefault(raw, Counter())[key] += 1
    return {raw: found.most_common(1)[0][0] for raw, found in seen.items()}
