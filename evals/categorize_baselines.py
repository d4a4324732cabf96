"""The two baselines the categorizer must beat on a real ledger, fitted by the eval itself on the same
training rows and inputs the categorizer gets:

- majority label per merchant: the descriptor as published (the exact string), else the training
  period's majority label (ties: alphabetical);
- TF-IDF + linear SGD (scikit-learn): word 1-2-grams and character 2-5-grams of the descriptor, plus
  one token per dimension value (team and parent teams, cost centre and its 1-3 character prefixes,
  MCC, amount band, refund, free dimensions); the regularization chosen on the last fifth of the
  training period, then refitted on all of it.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import SGDClassifier  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from evals.datasets.ledgers import LedgerRow

ALPHAS = (1e-5, 1e-4)  # the tuning grid (modified Huber loss: it gives probabilities)
TUNING_SHARE = 0.2


@dataclass(frozen=True)
class Answers:
    predicted: list[str]
    confidence: list[float] | None  # None: the baseline gives no confidence


def majority_per_merchant(train: Sequence[LedgerRow], test: Sequence[LedgerRow]) -> Answers:
    overall = _majority(Counter(r.label for r in train))
    per: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for row in train:
        per[row.descriptor][row.label] += 1
    best = {merchant: _majority(counts) for merchant, counts in per.items()}
    return Answers([best.get(r.descriptor, overall) for r in test], None)


def tfidf_sgd(train: Sequence[LedgerRow], test: Sequence[LedgerRow]) -> tuple[Answers, dict[str, Any]]:
    """The baseline's answers on `test`, and how it was tuned."""
    ordered = sorted(train, key=lambda r: r.date)
    cut = int(len(ordered) * (1 - TUNING_SHARE))
    tuning: dict[str, float] = {}
    with threadpool_limits(limits=1):
        for alpha in ALPHAS:
            model = _TfidfSgd(alpha).fit(ordered[:cut])
            predicted, _ = model.predict(ordered[cut:])
            tuning[f"{alpha:g}"] = round(
                float(np.mean([p == r.label for p, r in zip(predicted, ordered[cut:], strict=True)])), 4
            )
        alpha = max(ALPHAS, key=lambda a: tuning[f"{a:g}"])
        predicted, confidence = _TfidfSgd(alpha).fit(ordered).predict(test)
    return Answers(predicted, confidence), {"alpha": alpha, "tuning_accuracy": tuning}


class _TfidfSgd:
    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        self.grams = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
        self.tokens = CountVectorizer(tokenizer=str.split, lowercase=False, binary=True, token_pattern=None)
        self.model = SGDClassifier(loss="modified_huber", alpha=alpha, max_iter=30, tol=1e-4, random_state=0)

    def fit(self, rows: Sequence[LedgerRow]) -> _TfidfSgd:
        text = [r.descriptor.lower() for r in rows]
        matrix = sparse.hstack(
            [
                self.words.fit_transform(text),
                self.grams.fit_transform(text),
                self.tokens.fit_transform([_dimension_tokens(r) for r in rows]),
            ]
        ).tocsr()
        with warnings.catch_warnings():  # 30 epochs is the budget; a looser fit is what the baseline is
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(matrix, [r.label for r in rows])
        return self

    def predict(self, rows: Sequence[LedgerRow]) -> tuple[list[str], list[float]]:
        text = [r.descriptor.lower() for r in rows]
        matrix = sparse.hstack(
            [
                self.words.transform(text),
                self.grams.transform(text),
                self.tokens.transform([_dimension_tokens(r) for r in rows]),
            ]
        ).tocsr()
        probabilities = self.model.predict_proba(matrix)
        top = probabilities.argmax(axis=1)
        classes = list(self.model.classes_)
        return [classes[i] for i in top], probabilities[np.arange(len(top)), top].tolist()


def _dimension_tokens(row: LedgerRow) -> str:
    amount = float(Decimal(row.amount))
    found = [f"a:{int(math.log2(abs(amount) + 1))}", *(["refund"] if amount < 0 else [])]
    found += [f"t{i}:{team}" for i, team in enumerate(reversed(row.teams))]
    if row.cost_center:
        cc = row.cost_center
        found += [f"k:{cc}", f"k1:{cc[:1]}", f"k2:{cc[:2]}", f"k3:{cc[:3]}"]
    if row.mcc:
        found.append(f"c:{row.mcc}")
    found += [f"f:{name}={value}" for name, value in row.dims]
    return " ".join(token.replace(" ", "_") for token in found)


def _majority(counts: Counter[str]) -> str:
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
