"""Training a company model from its categorized history, with a time-based split.

    examples, oldest first
    ├── early 80% ── model A ──> the late 20% ──> calibration curve for seen merchants + holdout metrics
    │   └── minus a quarter of the merchants ── model B ──> those merchants' late expenses
    │                                              ──> calibration curve for unseen merchants + their metrics
    └── all ── model C (served), with both curves

A quarter of the merchants (by a hash of the merchant key) is hidden from model B, because a
time-based holdout alone has few merchants that are new: B shows how the model does on a merchant
it never met, from the MCC, the descriptor's words and the memo.

The holdout metrics are those of the whole pipeline (learned rules, then model A) on expenses after
the split, so a model version states how it did on data it had not seen. Model C learns the same way
from everything, because the newest months carry the newest merchants.
"""

from __future__ import annotations

import datetime as dt
import warnings
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.isotonic import IsotonicRegression  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from server.kit.merchants import merchant_key
from tools.categorize import metrics
from tools.categorize.features import ExpenseFacts, tokens
from tools.categorize.model import Artifact, Calibration, Matrix, MerchantHistory, counts_table, softmax
from tools.categorize.pipeline import Company, Scores, Thresholds, decide

HOLDOUT_SHARE = 0.2
MIN_EXAMPLES = 20  # fewer labelled expenses: rules and MCC only
MIN_CALIBRATION = 30  # fewer held-out answers: no calibration curve (the identity)
MIN_TOKEN_COUNT = 3  # rarer tokens are noise (a memo's one-off name) and slow the fit down
MAX_HIDDEN_TRAINING = 30_000  # model B only calibrates: its most recent examples are enough
MAX_EXAMPLES = 100_000  # the most recent: a bound on training time, and the books' current habits
UNSEEN_FOLD = 4  # one merchant in four is hidden from model B
C = 4.0
MAX_ITER = 200


@dataclass(frozen=True)
class Example:
    facts: ExpenseFacts
    code: str
    day: dt.date
    ref: str = ""


@dataclass(frozen=True)
class Trained:
    artifact: Artifact
    rows: int
    trained_from: dt.date | None
    trained_until: dt.date | None
    metrics: dict[str, Any] = field(default_factory=dict)


class Corpus:
    """The examples, oldest first, encoded once: merchant keys and token ids serve every fit and score.

    The vocabulary (tokens seen at least twice) comes from all examples; a fit on a subset simply
    learns nothing for the tokens it never sees, which is what a model that never met them does."""

    def __init__(self, examples: Sequence[Example], mcc_categories: Mapping[str, Sequence[str]]) -> None:
        self.examples = sorted(examples, key=lambda e: e.day)[-MAX_EXAMPLES:]
        self.mcc_categories = {mcc: list(found) for mcc, found in mcc_categories.items()}
        self.keys = [merchant_key(e.facts.merchant or e.facts.descriptor) for e in self.examples]
        rows = [
            tuple(tokens(e.facts, k, self.mcc_categories))
            for e, k in zip(self.examples, self.keys, strict=True)
        ]
        self.vocabulary = _vocabulary(rows)
        self.encoded = _encode(rows, self.vocabulary)

    def matrix(self, chosen: Sequence[int]) -> sparse.csr_matrix:
        indptr, indices = [0], list[int]()
        for i in chosen:
            indices.extend(self.encoded[i])
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(chosen), len(self.vocabulary)))

    def probabilities(self, artifact: Artifact, chosen: Sequence[int]) -> Matrix:
        """The artifact's softmax for these examples, before calibration, without tokenizing again."""
        logits: Matrix = np.asarray(self.matrix(chosen) @ artifact.weights, dtype=np.float64)
        return softmax(logits + artifact.intercept)

    def correct(
        self, artifact: Artifact, chosen: Sequence[int], probabilities: Matrix
    ) -> npt.NDArray[np.bool_]:
        top = np.asarray(artifact.classes)[probabilities.argmax(axis=1)]
        result: npt.NDArray[np.bool_] = np.array([self.examples[i].code for i in chosen]) == top
        return result


@dataclass
class Backtest:
    """Model A (early -> late) and model B (hidden merchants), each with the calibration curves fitted
    on all their held-out answers; `late` and `hidden` are corpus positions (hidden: the late expenses
    of B's hidden merchants). `scores` and `hidden_scores` are the honest calibrated probabilities on
    them: each half of the held-out answers calibrated by a curve fitted on the other half."""

    corpus: Corpus
    model: Artifact
    early: range
    late: range
    scores: Scores
    hidden_model: Artifact | None = None
    hidden: list[int] = field(default_factory=list)
    hidden_scores: Scores | None = None

    def examples(self, chosen: Sequence[int]) -> list[Example]:
        return [self.corpus.examples[i] for i in chosen]


def backtest(corpus: Corpus) -> Backtest | None:
    """None when there is too little history to hold any out."""
    split = split_by_time(corpus.examples)
    early, late = range(split), range(split, len(corpus.examples))
    if len(late) < MIN_CALIBRATION or len(early) < MIN_EXAMPLES:
        return None
    model_a = fit(corpus, early)
    if not model_a.vocabulary:
        return None
    tested = Backtest(corpus, model_a, early, late, Scores(model_a.classes, np.zeros((0, 0))))
    unseen = _hidden_merchants(tested) or Calibration()
    raw = corpus.probabilities(model_a, late)
    seen = np.array([model_a.seen(corpus.keys[i]) for i in late], dtype=bool)
    model_a.calibration_seen, honest = cross_fitted(raw[seen], corpus.correct(model_a, late, raw)[seen])
    model_a.calibration_unseen = unseen
    calibrated = raw.copy()
    calibrated[seen] = honest
    calibrated[~seen] = unseen.apply(raw[~seen])
    tested.scores = Scores(model_a.classes, calibrated)
    return tested


def _hidden_merchants(tested: Backtest) -> Calibration | None:
    """Fit model B without a quarter of the merchants; its curve on their late expenses is the one for
    merchants never seen. None: too little data for it."""
    corpus = tested.corpus
    hidden = [zlib.crc32(key.encode()) % UNSEEN_FOLD == 0 for key in corpus.keys]
    visible = [i for i in tested.early if not hidden[i]][-MAX_HIDDEN_TRAINING:]
    held = [i for i in tested.late if hidden[i]]
    if len(visible) < MIN_EXAMPLES or len(held) < MIN_CALIBRATION:
        return None
    model_b = fit(corpus, visible)
    if not model_b.vocabulary:
        return None
    raw = corpus.probabilities(model_b, held)
    calibration, honest = cross_fitted(raw, corpus.correct(model_b, held, raw))
    model_b.calibration_seen = model_b.calibration_unseen = calibration
    tested.hidden_model, tested.hidden, tested.hidden_scores = model_b, held, Scores(model_b.classes, honest)
    return calibration


def cross_fitted(raw: Matrix, correct: npt.NDArray[np.bool_]) -> tuple[Calibration, Matrix]:
    """The curve fitted on all answers, and the answers calibrated honestly: the earlier half by a curve
    fitted on the later half and the other way round (too few for halves: in sample)."""
    whole = fit_calibration(raw, correct)
    half = len(raw) // 2
    if half < MIN_CALIBRATION:
        return whole, whole.apply(raw)
    first = fit_calibration(raw[:half], correct[:half])
    second = fit_calibration(raw[half:], correct[half:])
    return whole, np.concatenate([second.apply(raw[:half]), first.apply(raw[half:])])


def fit_calibration(raw: Matrix, correct: npt.NDArray[np.bool_]) -> Calibration:
    """Isotonic regression of being right on the top probability (identity with too few answers)."""
    if len(raw) < MIN_CALIBRATION:
        return Calibration()
    curve = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    curve.fit(raw.max(axis=1), correct.astype(float))
    points = zip(curve.X_thresholds_.tolist(), curve.y_thresholds_.tolist(), strict=True)
    return Calibration(tuple((round(x, 6), round(y, 6)) for x, y in points))


def train(
    examples: Sequence[Example], mcc_categories: Mapping[str, Sequence[str]], thresholds: Thresholds
) -> Trained:
    """Model C with the calibration curves, and the metrics of models A and B (module docstring)."""
    # One BLAS thread: the matrices are small, and threads fighting over two cores cost 3-5x.
    with threadpool_limits(limits=1):
        return _train(Corpus(examples, mcc_categories), thresholds)


def _train(corpus: Corpus, thresholds: Thresholds) -> Trained:
    found: dict[str, Any] = {"rows": len(corpus.examples)}
    final = fit(corpus, range(len(corpus.examples)))
    tested = backtest(corpus)
    if tested is not None:
        company = Company(frozenset(final.classes), {}, corpus.mcc_categories, thresholds)
        found["holdout_from"] = corpus.examples[tested.late[0]].day.isoformat()
        found["holdout"] = holdout_metrics(company, tested.model, tested.examples(tested.late), tested.scores)
        if tested.hidden_model is not None and tested.hidden_scores is not None:
            hidden = tested.examples(tested.hidden)
            found["hidden_merchants"] = holdout_metrics(
                company, tested.hidden_model, hidden, tested.hidden_scores
            )
        final.calibration_seen = tested.model.calibration_seen
        final.calibration_unseen = tested.model.calibration_unseen
    found["calibrated"] = tested is not None
    ordered = corpus.examples
    first, last = (ordered[0].day, ordered[-1].day) if ordered else (None, None)
    return Trained(final, len(ordered), first, last, found)


def split_by_time(ordered: Sequence[Example]) -> int:
    """How many of the examples (oldest first) are early; a day never straddles the cut."""
    if not ordered:
        return 0
    cut_day = ordered[min(len(ordered) - 1, int(len(ordered) * (1 - HOLDOUT_SHARE)))].day
    return next(i for i, e in enumerate(ordered) if e.day >= cut_day)


def fit(corpus: Corpus, chosen: Sequence[int]) -> Artifact:
    """History tables and, with enough examples of at least two categories, a logistic regression,
    from the corpus examples at the `chosen` positions."""
    examples = [corpus.examples[i] for i in chosen]
    keys = [corpus.keys[i] for i in chosen]
    classes = sorted({e.code for e in examples})
    artifact = Artifact(
        classes=classes,
        vocabulary={},
        weights=np.zeros((0, len(classes)), dtype=np.float32),
        intercept=np.zeros(len(classes), dtype=np.float32),
        mcc_categories=corpus.mcc_categories,
        merchants=_merchants(examples, keys),
        mccs=counts_table(Counter((e.facts.mcc, e.code) for e in examples if e.facts.mcc)),
        aliases=_aliases(examples, keys),
    )
    if len(examples) < MIN_EXAMPLES or len(classes) < 2:
        return artifact
    matrix, labels, weights = _deduplicated(corpus, chosen)
    with warnings.catch_warnings():
        # A loose tolerance is enough for ranking and calibration: the calibration curves absorb the rest.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=C, max_iter=MAX_ITER, tol=1e-3)
        model.fit(matrix, labels, sample_weight=weights)
    artifact.vocabulary = corpus.vocabulary
    artifact.weights = np.ascontiguousarray(model.coef_.T, dtype=np.float32)
    artifact.intercept = model.intercept_.astype(np.float32)
    return artifact


def holdout_metrics(
    company: Company, artifact: Artifact, held: Sequence[Example], scores: Scores
) -> dict[str, Any]:
    """The pipeline (learned rules, then the model's `scores`) on held-out examples, against the books."""
    thresholds = company.thresholds
    decisions = decide(company, artifact, [e.facts for e in held], scores)
    predicted = [d.best.code if d.best else None for d in decisions]
    confidence = [d.confidence for d in decisions]
    truth = [e.code for e in held]
    found = metrics.summary(predicted, confidence, truth, thresholds.auto_apply)
    unseen = [i for i, d in enumerate(decisions) if not d.merchant_seen]
    if unseen and len(unseen) < len(held):
        found["unseen_merchants"] = metrics.summary(
            [predicted[i] for i in unseen],
            [confidence[i] for i in unseen],
            [truth[i] for i in unseen],
            thresholds.auto_apply,
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


def _vocabulary(rows: Sequence[tuple[str, ...]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row, n in Counter(rows).items():  # most rows repeat: count each distinct one once, weighted
        for token in set(row):
            counts[token] += n
    kept = sorted(token for token, n in counts.items() if n >= MIN_TOKEN_COUNT)
    return {token: index for index, token in enumerate(kept)}


def _encode(rows: Sequence[tuple[str, ...]], vocabulary: Mapping[str, int]) -> list[tuple[int, ...]]:
    """Each row's known token ids, sorted; identical rows (most are) are encoded once."""
    done: dict[tuple[str, ...], tuple[int, ...]] = {}
    encoded = []
    for row in rows:
        found = done.get(row)
        if found is None:
            found = done[row] = tuple(sorted({vocabulary[t] for t in row if t in vocabulary}))
        encoded.append(found)
    return encoded


def _deduplicated(
    corpus: Corpus, chosen: Sequence[int]
) -> tuple[sparse.csr_matrix, list[str], npt.NDArray[np.float64]]:
    """Identical (features, category) rows once, weighted by how often they occur: the same fit,
    a fraction of the work (most charges repeat a merchant, band and empty memo)."""
    counts = Counter((corpus.encoded[i], corpus.examples[i].code) for i in chosen)
    indptr, indices, labels = [0], list[int](), list[str]()
    for found, code in counts:
        indices.extend(found)
        indptr.append(len(indices))
        labels.append(code)
    data = np.ones(len(indices), dtype=np.float64)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(counts), len(corpus.vocabulary)))
    return matrix, labels, np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
