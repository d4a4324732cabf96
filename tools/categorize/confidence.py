"""How sure an answer is: the probability that the model's top category is the right one, learned from
answers the model gave on expenses it had not seen (the held-out slice of training).

The softmax's top probability alone is overconfident where the books drift and underconfident where a
merchant's history is long and one-sided. With enough held-out answers (`TREES_FROM`), the confidence
model reads both: a few small boosted trees over the top probability, its margin over the second,
whether the merchant was seen, and per history table it reads (`Encoding.confidence_tables`) the
number of expenses of the key, the top category's share and whether it is the key's majority. Trees
are fitted in numpy on histogram bins (scikit-learn's would need scikit-learn at inference; these are
plain arrays in the artifact). With fewer, trees cannot isolate the ambiguous merchants among the many
one-way ones (a leaf needs 40 answers), and neither can an isotonic curve (its steps jump to "always
right" wherever a few answers happened to be): the temperature-scaled top probability is the confidence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tools.categorize.history import Counts

Array = npt.NDArray[Any]
TREES, DEPTH, RATE, LAMBDA, MIN_LEAF, BINS = 80, 3, 0.1, 1.0, 40, 16
TREES_FROM = 4000  # held-out answers; fewer: the temperature-scaled top probability


def fit_temperature(logits: Array, labels: Array) -> float:
    """The T that minimises the held-out log loss of softmax(logits / T) (golden section over log T)."""
    rows = np.arange(len(labels))

    def loss(log_t: float) -> float:
        z = logits / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, labels]))

    low, high, ratio = math.log(0.2), math.log(5.0), (math.sqrt(5) - 1) / 2
    for _ in range(20):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if loss(a) < loss(b):
            high = b
        else:
            low = a
    return math.exp((low + high) / 2)


def features(P: Array, per_table: Sequence[Counts], seen: Array) -> Array:
    """Per row, about its top category: probability, margin to the second, merchant seen, and per table
    log(1 + N), the top category's share (-1 without history), whether it is the key's majority."""
    rows, top = np.arange(len(P)), P.argmax(axis=1)
    ordered = np.partition(P, -2, axis=1) if P.shape[1] > 1 else np.hstack([np.zeros_like(P), P])
    columns = [ordered[:, -1], ordered[:, -1] - ordered[:, -2], seen.astype(float)]
    for kept, total in per_table:
        n_top = np.asarray(kept[rows, top]).ravel()
        best = kept.max(axis=1).toarray().ravel() if kept.shape[1] else np.zeros(len(P))
        columns += [
            np.log1p(total),
            np.where(total > 0, n_top / np.maximum(total, 1e-9), -1.0),
            ((n_top >= best - 1e-9) & (total > 0)).astype(float),
        ]
    return np.column_stack(columns)


def fit_trees(X: Array, y: Array, trees: int = TREES) -> dict[str, Array]:
    """Boosted depth-3 trees for P(y = 1 | X): log loss, Newton leaves, splits on at most 16 quantile
    bins per feature. Arrays: feature and threshold per inner node (heap order; +inf: no split), leaf
    values, base score."""
    n, F = X.shape
    edges = [np.unique(np.quantile(X[:, f], np.linspace(0, 1, BINS + 1)[1:-1])) for f in range(F)]
    binned = np.column_stack([np.searchsorted(e, X[:, f], side="left") for f, e in enumerate(edges)])
    offsets = binned + np.arange(F) * BINS
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    base = math.log(rate / (1 - rate))
    score = np.full(n, base)
    feature = np.zeros((trees, 2**DEPTH - 1), np.int32)
    threshold = np.full((trees, 2**DEPTH - 1), np.inf)
    leaf = np.zeros((trees, 2**DEPTH))
    for t in range(trees):
        p = 1 / (1 + np.exp(-score))
        g, h = p - y, p * (1 - p)
        node = _grow(binned, offsets, edges, np.repeat(g, F), np.repeat(h, F), feature[t], threshold[t])
        leaf[t] = -RATE * np.bincount(node, g, 2**DEPTH) / (np.bincount(node, h, 2**DEPTH) + LAMBDA)
        score += leaf[t][node]
    return {"feature": feature, "threshold": threshold, "leaf": leaf, "base": np.array([base])}


def _grow(
    binned: Array,
    offsets: Array,
    edges: Sequence[Array],
    g: Array,
    h: Array,
    feature: Array,
    threshold: Array,
) -> Array:
    """One tree, level by level (each row's node); fills `feature` and `threshold` in place."""
    n, F = binned.shape
    node, rows = np.zeros(n, np.int64), np.arange(n)
    for level in range(DEPTH):
        width = 2**level
        size = width * F * BINS
        key = (node[:, None] * (F * BINS) + offsets).ravel()
        G = np.bincount(key, g, size).reshape(width, F, BINS).cumsum(axis=2)
        H = np.bincount(key, h, size).reshape(width, F, BINS).cumsum(axis=2)
        N = np.bincount(key, None, size).reshape(width, F, BINS).cumsum(axis=2)
        Gt, Ht, Nt = G[:, :1, -1:], H[:, :1, -1:], N[:, :1, -1:]
        gain = G**2 / (H + LAMBDA) + (Gt - G) ** 2 / (Ht - H + LAMBDA) - Gt**2 / (Ht + LAMBDA)
        gain[(N < MIN_LEAF) | (Nt - N < MIN_LEAF)] = -np.inf
        flat = gain.reshape(width, -1)
        best = flat.argmax(axis=1)
        ok = flat[np.arange(width), best] > 1e-9
        best_feature, best_bin = np.divmod(best, BINS)
        for j in np.flatnonzero(ok):
            cut = edges[best_feature[j]]
            feature[2**level - 1 + j] = best_feature[j]
            threshold[2**level - 1 + j] = cut[best_bin[j]] if best_bin[j] < len(cut) else np.inf
        node = node * 2 + (binned[rows, best_feature[node]] > np.where(ok, best_bin, BINS + 1)[node])
    return node


def predict_trees(model: Mapping[str, Array], X: Array) -> Array:
    """P(right) for each row of X: every tree at once, a level at a time (a call scores one expense as
    often as thousands)."""
    feature, threshold, leaf = model["feature"], model["threshold"], model["leaf"]
    trees, depth = len(leaf), round(math.log2(leaf.shape[1]))
    node = np.zeros((trees, len(X)), np.int64)
    tree = np.arange(trees)[:, None]
    for level in range(depth):
        heap = 2**level - 1 + node
        at = feature[tree, heap]
        node = node * 2 + (X[np.arange(len(X))[None, :], at] > threshold[tree, heap])
    score = float(model["base"][0]) + leaf[tree, node].sum(axis=0)
    result: Array = 1 / (1 + np.exp(-score))
    return result


def averaged(a: Mapping[str, Array], b: Mapping[str, Array]) -> dict[str, Array]:
    """Two tree models as one: their scores averaged (each was validated on the other's half)."""
    return {
        "feature": np.concatenate([a["feature"], b["feature"]]),
        "threshold": np.concatenate([a["threshold"], b["threshold"]]),
        "leaf": np.concatenate([a["leaf"], b["leaf"]]) / 2,
        "base": (a["base"] + b["base"]) / 2,
    }


def with_top(P: Array, confidence: Array) -> Array:
    """P with each row's top category set to its confidence and the others scaled by one factor to share
    the rest, none above the top: min(confidence, k * p), k found by bisection."""
    rows, top = np.arange(len(P)), P.argmax(axis=1)
    others = P.copy()
    others[rows, top] = 0.0
    cap, rest = confidence[:, None], 1.0 - confidence
    low, high = np.zeros(len(P)), np.ones(len(P))
    while True:
        short = (np.minimum(cap, others * high[:, None]).sum(axis=1) < rest) & (high < 1e12)
        if not short.any():
            break
        high[short] *= 4.0
    for _ in range(40):
        middle = (low + high) / 2
        under = np.minimum(cap, others * middle[:, None]).sum(axis=1) < rest
        low, high = np.where(under, middle, low), np.where(under, high, middle)
    result = np.minimum(cap, others * high[:, None])
    result[rows, top] = confidence
    return result
