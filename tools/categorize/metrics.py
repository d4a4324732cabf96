"""How good a set of answers is against the books: accuracy, macro-F1, calibration, coverage.

Every function takes parallel sequences: the predicted code (None when there was no guess), its
confidence, and the code the books have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

ECE_BINS = 15
COVERAGES = (0.8, 0.9, 1.0)


def accuracy(predicted: Sequence[str | None], truth: Sequence[str]) -> float:
    if not truth:
        return 0.0
    return sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)


def macro_f1(predicted: Sequence[str | None], truth: Sequence[str]) -> float:
    """Unweighted mean F1 over the categories that occur in the books."""
    scores = []
    for code in sorted(set(truth)):
        tp = sum(p == code and t == code for p, t in zip(predicted, truth, strict=True))
        fp = sum(p == code and t != code for p, t in zip(predicted, truth, strict=True))
        fn = sum(p != code and t == code for p, t in zip(predicted, truth, strict=True))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool]) -> float:
    """Weighted mean |confidence - accuracy| over 15 equal-width confidence bins."""
    conf = np.asarray(confidence, dtype=float)
    hits = np.asarray(correct, dtype=float)
    if not len(conf):
        return 0.0
    bins = np.minimum((conf * ECE_BINS).astype(int), ECE_BINS - 1)
    error = 0.0
    for b in np.unique(bins):
        mask = bins == b
        error += mask.mean() * abs(conf[mask].mean() - hits[mask].mean())
    return float(error)


def accuracy_at_coverage(confidence: Sequence[float], correct: Sequence[bool], coverage: float) -> float:
    """Accuracy over the `coverage` share of answers the categorizer is most confident about."""
    if not len(confidence):
        return 0.0
    order = np.argsort(-np.asarray(confidence, dtype=float), kind="stable")
    kept = order[: max(1, round(coverage * len(order)))]
    return float(np.asarray(correct, dtype=float)[kept].mean())


def at_threshold(confidence: Sequence[float], correct: Sequence[bool], threshold: float) -> dict[str, Any]:
    """Precision and coverage of the answers at or above `threshold` (what auto-apply would write)."""
    conf = np.asarray(confidence, dtype=float)
    chosen = conf >= threshold
    hits = np.asarray(correct, dtype=bool)[chosen]
    return {
        "threshold": threshold,
        "coverage": round(float(chosen.mean()), 4) if len(conf) else 0.0,
        "precision": round(float(hits.mean()), 4) if len(hits) else None,
        "count": int(chosen.sum()),
    }


def summary(
    predicted: Sequence[str | None],
    confidence: Sequence[float],
    truth: Sequence[str],
    auto_apply: float,
) -> dict[str, Any]:
    """The headline numbers of one set of answers."""
    correct = [p == t for p, t in zip(predicted, truth, strict=True)]
    return {
        "count": len(truth),
        "accuracy": round(accuracy(predicted, truth), 4),
        "macro_f1": round(macro_f1(predicted, truth), 4),
        "ece": round(expected_calibration_error(confidence, correct), 4),
        "accuracy_at_coverage": {
            f"{round(c * 100)}%": round(accuracy_at_coverage(confidence, correct, c), 4) for c in COVERAGES
        },
        "auto_apply": at_threshold(confidence, correct, auto_apply),
    }
