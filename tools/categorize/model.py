"""A company model as data: what `learn.py` produces, what a model version stores, what both
the categorizer and `outlay model serve` load.

The artifact is an `.npz` of plain arrays plus one JSON document; it is read with
`allow_pickle=False`, so loading a model can never run code. Inference is a sparse dot product and
a softmax in numpy (sklearn is only needed to train): a single expense costs microseconds.

    logits = intercept + sum of the weight rows of the expense's known tokens
    p      = softmax(logits), then the top probability mapped through a calibration curve fitted on
             held-out expenses (one for merchants the model saw, one for those it never saw: it is
             overconfident there), the other probabilities scaled to keep the sum at 1
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from server.kit.merchants import merchant_key
from tools.categorize.features import ExpenseFacts, tokens

FORMAT = 1
Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MerchantHistory:
    """How one merchant (by key) was categorized in the training window."""

    name: str  # the merchant name as the books spell it most often
    counts: dict[str, int]  # category code -> expenses

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def top(self) -> tuple[str, int]:
        return min(self.counts.items(), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class Calibration:
    """A monotone map of the top probability to the observed accuracy (isotonic, on held-out data):
    piecewise linear through `points`, flat beyond them; no points: the identity."""

    points: tuple[tuple[float, float], ...] = ()

    def apply(self, probabilities: Matrix) -> Matrix:
        if not self.points or not len(probabilities):
            return probabilities
        xs, ys = zip(*self.points, strict=True)
        rows = np.arange(len(probabilities))
        top = probabilities.argmax(axis=1)
        old = probabilities[rows, top]
        new = np.interp(old, xs, ys)
        rest = np.where(old < 1.0, (1.0 - new) / np.maximum(1.0 - old, 1e-12), 0.0)
        result: Matrix = probabilities * rest[:, None]
        result[rows, top] = new
        return result


@dataclass
class Artifact:
    classes: list[str]
    vocabulary: dict[str, int]
    weights: npt.NDArray[np.float32]  # (tokens, classes)
    intercept: npt.NDArray[np.float32]  # (classes,)
    calibration_seen: Calibration = field(default_factory=Calibration)
    calibration_unseen: Calibration = field(default_factory=Calibration)
    # Company categories by MCC at training time (the k:CODE tokens), so the artifact stands alone.
    mcc_categories: dict[str, list[str]] = field(default_factory=dict)
    merchants: dict[str, MerchantHistory] = field(default_factory=dict)
    mccs: dict[str, dict[str, int]] = field(default_factory=dict)  # MCC -> code -> expenses
    # Descriptor-derived keys that the books file under another merchant name (DELTA AIR -> DELTA).
    aliases: dict[str, str] = field(default_factory=dict)

    def key_of(self, facts: ExpenseFacts) -> str:
        """The merchant key as the training data spelled it, from a name or a raw descriptor."""
        key = merchant_key(facts.merchant or facts.descriptor)
        if key in self.merchants or facts.merchant:
            return key
        return self.aliases.get(key, key)

    def seen(self, key: str) -> bool:
        return key in self.merchants

    def logits(self, rows: Sequence[tuple[ExpenseFacts, str]]) -> Matrix:
        """Raw scores (rows, classes) for (facts, merchant key) pairs."""
        indptr, indices = [0], list[int]()
        vocabulary = self.vocabulary
        for facts, key in rows:
            found = {vocabulary[t] for t in tokens(facts, key, self.mcc_categories) if t in vocabulary}
            indices.extend(found)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        shape = (len(rows), len(vocabulary))
        matrix = sparse.csr_matrix((data, np.asarray(indices, dtype=np.int64), indptr), shape=shape)
        scores: Matrix = np.asarray(matrix @ self.weights, dtype=np.float64) + self.intercept
        return scores

    def probabilities(self, rows: Sequence[tuple[ExpenseFacts, str]]) -> Matrix:
        """Calibrated class probabilities (rows, classes)."""
        return self.calibrate(softmax(self.logits(rows)), [self.seen(key) for _, key in rows])

    def calibrate(self, probabilities: Matrix, seen: Sequence[bool]) -> Matrix:
        known = np.asarray(seen, dtype=bool)
        result = probabilities.copy()
        if known.any():
            result[known] = self.calibration_seen.apply(probabilities[known])
        if (~known).any():
            result[~known] = self.calibration_unseen.apply(probabilities[~known])
        return result


def softmax(scores: Matrix) -> Matrix:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    result: Matrix = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def dump(artifact: Artifact) -> bytes:
    meta = {
        "format": FORMAT,
        "classes": artifact.classes,
        "vocabulary": sorted(artifact.vocabulary, key=artifact.vocabulary.__getitem__),
        "calibration_seen": artifact.calibration_seen.points,
        "calibration_unseen": artifact.calibration_unseen.points,
        "mcc_categories": artifact.mcc_categories,
        "merchants": {k: [m.name, m.counts] for k, m in artifact.merchants.items()},
        "mccs": artifact.mccs,
        "aliases": artifact.aliases,
    }
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        weights=artifact.weights,
        intercept=artifact.intercept,
        meta=np.frombuffer(json.dumps(meta, separators=(",", ":")).encode(), dtype=np.uint8),
    )
    return buffer.getvalue()


def load(blob: bytes) -> Artifact:
    with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
        meta: dict[str, Any] = json.loads(arrays["meta"].tobytes())
        weights, intercept = arrays["weights"], arrays["intercept"]
    if meta.get("format") != FORMAT:
        raise ValueError(f"model artifact format {meta.get('format')!r} is not {FORMAT}: retrain the model")
    return Artifact(
        classes=list(meta["classes"]),
        vocabulary={token: index for index, token in enumerate(meta["vocabulary"])},
        weights=weights,
        intercept=intercept,
        calibration_seen=Calibration(tuple((float(x), float(y)) for x, y in meta["calibration_seen"])),
        calibration_unseen=Calibration(tuple((float(x), float(y)) for x, y in meta["calibration_unseen"])),
        mcc_categories=meta["mcc_categories"],
        merchants={k: MerchantHistory(name, counts) for k, (name, counts) in meta["merchants"].items()},
        mccs=meta["mccs"],
        aliases=meta["aliases"],
    )


def counts_table(pairs: Mapping[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    """(group, code) -> count, as group -> code -> count."""
    table: dict[str, dict[str, int]] = {}
    for (group, code), n in sorted(pairs.items()):
        table.setdefault(group, {})[code] = n
    return table


def top_share(counts: Mapping[str, int]) -> tuple[str, int, int]:
    """(most frequent code, its count, total)."""
    code, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return code, count, sum(counts.values())
