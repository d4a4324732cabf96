"""One multinomial softmax for all categories, trained with minibatch AdaGrad in numpy.

    logits = tokens @ W + b + history features @ v

W has a row of weights per token and category; v is one weight per history feature, shared by every
category (a category's "3 of 3 at this merchant" means the same whichever category it is). One model for
all categories costs one pass over the rows per epoch, where one-vs-rest logistic regressions cost one
per category: 100k expenses and 150 categories train in seconds, not minutes. Only the token rows a
minibatch touches are updated (with their L2 penalty), which keeps an epoch proportional to the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

F32 = np.float32
Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Schedule:
    learning_rate: float = 0.05
    l2: float = 1e-5
    batch: int = 256
    seed: int = 0


@dataclass
class Weights:
    """The model's weights and AdaGrad's running sums of squared gradients (to continue a fit)."""

    W: Array  # (tokens, classes)
    b: Array  # (classes,)
    v: Array  # (history features,)
    GW: Array
    Gb: Array
    Gv: Array

    @classmethod
    def zeros(cls, tokens: int, classes: int, features: int) -> Weights:
        return cls(
            np.zeros((tokens, classes), F32),
            np.zeros(classes, F32),
            np.zeros(features, F32),
            np.full((tokens, classes), 1e-6, F32),
            np.full(classes, 1e-6, F32),
            np.full(features, 1e-6, F32),
        )


def softmax(z: Array) -> Array:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def logits(X: sparse.csr_matrix, T: sparse.csr_matrix | None, W: Array, b: Array, v: Array) -> Array:
    """(rows, classes) scores for token matrix X and history-feature matrix T (rows, classes * len(v))."""
    Z = np.asarray(X @ W, dtype=np.float64) + b
    if T is not None and T.nnz:
        Z += _history_term(T, v, Z.shape[1])[0]
    return Z


def _history_term(T: sparse.csr_matrix, v: Array, classes: int) -> tuple[Array, Array, Array]:
    """T's share of the logits, (rows, classes); and, per stored entry of T, its flat (row, class) position
    and its feature (what the gradient of v needs)."""
    row = np.repeat(np.arange(T.shape[0]), np.diff(T.indptr))
    cls, feature = np.divmod(T.indices, len(v))
    flat = row * classes + cls
    term = np.bincount(flat, weights=T.data * v[feature], minlength=T.shape[0] * classes)
    return term.reshape(-1, classes), flat, feature


def train(
    X: sparse.csr_matrix,
    T: sparse.csr_matrix | None,
    labels: Array,
    weights: Array,
    start: Weights,
    epochs: int,
    schedule: Schedule = Schedule(),
) -> Weights:
    """`epochs` passes of minibatch AdaGrad on the weighted log loss + L2, from `start` (updated)."""
    n, classes, F = X.shape[0], start.W.shape[1], len(start.v)
    rng = np.random.default_rng(schedule.seed)
    scaled = (weights / weights.mean()).astype(F32) if n else weights
    for _ in range(epochs):
        order = rng.permutation(n)
        for first in range(0, n, schedule.batch):
            # A batch at a time, not the whole matrix permuted: a copy of T is the size of the data.
            chosen = order[first : first + schedule.batch]
            batch_T = T[chosen] if T is not None and F else None
            _step(X[chosen], batch_T, labels[chosen], scaled[chosen], start, classes, schedule)
    return start


def _step(
    X: sparse.csr_matrix,
    T: sparse.csr_matrix | None,
    labels: Array,
    weights: Array,
    w: Weights,
    classes: int,
    schedule: Schedule,
) -> None:
    """One minibatch (the rows of X, T, labels, weights)."""
    m, F = X.shape[0], len(w.v)
    lr, l2 = F32(schedule.learning_rate), F32(schedule.l2)
    columns, inverse = np.unique(X.indices, return_inverse=True)
    batch = sparse.csr_matrix((X.data, inverse, X.indptr), shape=(m, len(columns)))
    rows_W = w.W[columns]
    Z = batch @ rows_W + w.b
    if T is not None:
        term, flat, t_feature = _history_term(T, w.v, classes)
        Z += term
    P = softmax(Z)
    P[np.arange(m), labels] -= 1.0
    P *= weights[:, None]
    gradient = batch.T @ P + l2 * m * rows_W
    squares = w.GW[columns] + gradient * gradient
    w.GW[columns] = squares
    w.W[columns] = rows_W - lr * gradient / np.sqrt(squares)
    gb = P.sum(axis=0)
    w.Gb += gb * gb
    w.b -= lr * gb / np.sqrt(w.Gb)
    if T is not None:
        gv = np.bincount(t_feature, weights=T.data * P.ravel()[flat], minlength=F).astype(F32)
        w.Gv += gv * gv
        w.v -= lr * gv / np.sqrt(w.Gv)
