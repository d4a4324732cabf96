"""The auto-apply threshold a company can sign: the lowest confidence at which the answers written without
a person are right at least `target` of the time, with 95% confidence, on the company's own held-out
answers.

Fixed-sequence testing (learn then test): thresholds are tried from 1 down in steps; each passes when
the one-sided Clopper-Pearson lower bound on the precision of the held-out answers at or above it is at
least the target, and the first failure stops the sequence. Testing in a fixed order, and stopping at
the first failure, is what keeps the 95% valid for the threshold chosen (no search over thresholds
picks a lucky one). The sequence starts where there are enough answers to pass at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import betaincinv  # type: ignore[import-untyped]

ALPHA = 0.05
STEP = 0.0025


@dataclass(frozen=True)
class Chosen:
    threshold: float | None  # None: no threshold reaches the target (nothing is written alone)
    answers: int  # held-out answers at or above it
    lower_bound: float | None  # of their precision
    coverage: float  # share of the held-out answers at or above it


def lower_bound(right: int, answers: int, alpha: float = ALPHA) -> float:
    """One-sided (1 - alpha) Clopper-Pearson lower bound of right / answers: the alpha quantile of
    Beta(right, answers - right + 1) (scipy.special's inverse, not scipy.stats: 50 MB less to load)."""
    return 0.0 if right == 0 else float(betaincinv(right, answers - right + 1, alpha))


def choose(confidence: npt.NDArray[Any], correct: npt.NDArray[Any], target: float) -> Chosen:
    """The threshold for `target` precision (module docstring), from held-out answers."""
    fewest = math.ceil(math.log(ALPHA) / math.log(target)) if target < 1 else len(confidence) + 1
    chosen = Chosen(None, 0, None, 0.0)
    for threshold in np.arange(1.0, 0.0, -STEP):
        above = confidence >= threshold - 1e-12
        answers, right = int(above.sum()), int(correct[above].sum())
        if answers < fewest:
            continue
        bound = lower_bound(right, answers)
        if bound < target:
            break
        chosen = Chosen(round(float(threshold), 4), answers, bound, answers / len(confidence))
    return chosen
