"""A company model as data: what `learn.py` produces, what a model version stores, what the categorizer
and `outlay model serve` load.

The artifact is an `.npz` of plain arrays plus one JSON document, read with `allow_pickle=False`, so
loading a model can never run code. Inference needs numpy and scipy.sparse only (scikit-learn is not
used at all):

    logits     = tokens @ W + b + history features @ v           (softmax.py, history.py)
    p          = softmax(logits / temperature)
    confidence = the confidence trees' P(top category is right)  (confidence.py)
    answer     = p with its top category's probability set to the confidence

People's corrections since training are added to the history tables' counts before the lookup
(`Corrections`), so that they count at once, without retraining.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from tools.categorize import confidence, features, softmax
from tools.categorize.features import TABLES, ExpenseFacts
from tools.categorize.history import Counts, Histories, class_features, distinct, token_matrix

FORMAT = 2
Matrix = npt.NDArray[np.float64]
# An expense none of whose keys the books have seen (merchant, team, cost centre...) and without an MCC
# is out of everything the confidence model was fitted on: whatever its words say, a person decides.
NOTHING_KNOWN = 0.5


@dataclass(frozen=True)
class Encoding:
    """What the model reads, fixed at training: history tables, categories kept per key, the weight of a
    correction. (Its tokens are `features.tokens`: a change to them is a new artifact `FORMAT`.)"""

    tables: tuple[str, ...] = tuple(TABLES)
    keep: int = 4  # per key and table, the most frequent categories only
    correction_weight: float = 4.0  # a correction counts like this many expenses of the last training day
    # The tables the confidence trees read (more made them fit the held-out answers' noise).
    confidence_tables: tuple[str, ...] = (
        "raw",
        "key",
        "key_cc",
        "key_team",
        "key_band",
        "cc",
        "mcc",
        "team_mcc",
    )

    def confidence_counts(self, per_table: Sequence[Counts]) -> list[Counts]:
        return [per_table[self.tables.index(t)] for t in self.confidence_tables if t in self.tables]


@dataclass(frozen=True)
class MerchantHistory:
    """How one merchant (by key) was categorized in the training window, as plain counts."""

    name: str  # the merchant name as the books spell it most often
    counts: dict[str, int]  # category code -> expenses

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Corrections:
    """People's corrections since the model was trained, as history: per table, key -> category -> count."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict[str, int]]] = {}

    @property
    def by_merchant(self) -> dict[str, dict[str, int]]:
        """Merchant key -> category -> corrections: the merchant table itself."""
        return self.tables.get("key", {})

    def add(self, facts: ExpenseFacts, code: str) -> None:
        for name, key_of in TABLES.items():
            if key := key_of(facts):
                entry = self.tables.setdefault(name, {}).setdefault(key, {})
                entry[code] = entry.get(code, 0) + 1

    def matrix(
        self, table: str, unique: Sequence[ExpenseFacts], classes: Mapping[str, int], weight: float
    ) -> sparse.csr_matrix:
        """(expenses, classes): the weighted corrections of `table` for each expense's key."""
        entries, key_of = self.tables.get(table, {}), TABLES[table]
        rows, columns, values = [], [], []
        for i, facts in enumerate(unique):
            for code, n in entries.get(key_of(facts), {}).items():
                if code in classes:
                    rows.append(i)
                    columns.append(classes[code])
                    values.append(weight * n)
        data = np.asarray(values, np.float32)
        return sparse.csr_matrix((data, (rows, columns)), shape=(len(unique), len(classes)))


@dataclass
class Artifact:
    classes: list[str]
    encoding: Encoding
    vocabulary: dict[str, int]
    W: npt.NDArray[np.float32]  # (tokens, classes)
    b: npt.NDArray[np.float32]  # (classes,)
    v: npt.NDArray[np.float32]  # (history features,)
    histories: Histories
    temperature: float = 1.0
    trees: dict[str, npt.NDArray[Any]] | None = None  # the confidence model; None: the top probability
    auto_apply: float | None = None  # the threshold training chose for the company's target precision
    # Company categories by MCC at training time (the k:CODE tokens), so the artifact stands alone.
    mcc_categories: dict[str, list[str]] = field(default_factory=dict)
    merchants: dict[str, MerchantHistory] = field(default_factory=dict)
    mccs: dict[str, dict[str, int]] = field(default_factory=dict)  # MCC -> code -> expenses
    # Descriptor-derived keys that the books file under another merchant name (DELTA AIR -> DELTA).
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def fitted(self) -> bool:
        return bool(self.vocabulary) and len(self.classes) > 1

    def key_of(self, facts: ExpenseFacts) -> str:
        """The merchant key as the training data spelled it, from a name or a raw descriptor."""
        key = features.key_of(facts)
        if key in self.merchants or facts.merchant:
            return key
        return self.aliases.get(key, key)

    def seen(self, key: str) -> bool:
        return key in self.merchants

    def as_booked(self, facts: ExpenseFacts) -> ExpenseFacts:
        """A raw charge without a merchant name gets the name the books file its descriptor under."""
        key = self.key_of(facts)
        if facts.merchant or key not in self.merchants:
            return facts
        return replace(facts, merchant=self.merchants[key].name)

    def predict(
        self, rows: Sequence[ExpenseFacts], corrections: Corrections | None = None
    ) -> tuple[Matrix, npt.NDArray[np.float64]]:
        """Calibrated probabilities (rows, classes), whose top entry is the confidence, and the
        confidences."""
        Z, per_table, seen = self.encode([self.as_booked(f) for f in rows], corrections)
        P = softmax.softmax(Z / self.temperature)
        sure = self.confidence(P, per_table, seen)
        known = np.zeros(len(rows), bool)
        for _, total in per_table:
            known |= total > 0
        known |= np.fromiter((bool(f.mcc) for f in rows), bool, len(rows))
        sure = np.where(known, sure, np.minimum(sure, NOTHING_KNOWN))
        return confidence.with_top(P, sure), sure

    def encode(
        self, rows: Sequence[ExpenseFacts], corrections: Corrections | None = None
    ) -> tuple[Matrix, list[Counts], npt.NDArray[np.bool_]]:
        """Logits, each table's counts (corrections added), and whether each merchant has history."""
        unique, which = distinct(rows)
        X = token_matrix(unique, which, self.mcc_categories, self.vocabulary)
        extra = None
        if corrections is not None and corrections.tables:
            index = {code: i for i, code in enumerate(self.classes)}
            weight = self.encoding.correction_weight

            def extra(table: str) -> sparse.csr_matrix:
                return corrections.matrix(table, unique, index, weight)

        per_table = self.histories.lookup(unique, which, self.encoding.keep, extra)
        T = class_features(per_table, len(rows), len(self.classes)) if per_table else None
        Z = softmax.logits(X, T, self.W, self.b, self.v)
        names = self.histories.names
        seen = per_table[names.index("key")][1] > 0 if "key" in names else np.ones(len(rows), bool)
        return Z, per_table, seen

    def confidence(self, P: Matrix, per_table: Sequence[Counts], seen: npt.NDArray[np.bool_]) -> Matrix:
        if self.trees is not None:
            chosen = self.encoding.confidence_counts(per_table)
            return confidence.predict_trees(self.trees, confidence.features(P, chosen, seen))
        top: Matrix = P.max(axis=1)
        return top


def dump(artifact: Artifact) -> bytes:
    histories = artifact.histories
    meta = {
        "format": FORMAT,
        "classes": artifact.classes,
        "encoding": asdict(artifact.encoding),
        "vocabulary": sorted(artifact.vocabulary, key=artifact.vocabulary.__getitem__),
        "tables": histories.names,
        "keys": [sorted(keys, key=keys.__getitem__) for keys in histories.keys],
        "temperature": artifact.temperature,
        "auto_apply": artifact.auto_apply,
        "mcc_categories": artifact.mcc_categories,
        "merchants": {k: [m.name, m.counts] for k, m in artifact.merchants.items()},
        "mccs": artifact.mccs,
        "aliases": artifact.aliases,
    }
    arrays: dict[str, npt.NDArray[Any]] = {
        "W": artifact.W,
        "b": artifact.b,
        "v": artifact.v,
        "meta": np.frombuffer(json.dumps(meta, separators=(",", ":")).encode(), dtype=np.uint8),
    }
    for i, counts in enumerate(histories.counts):
        arrays[f"h{i}_data"], arrays[f"h{i}_indices"], arrays[f"h{i}_indptr"] = (
            counts.data,
            counts.indices,
            counts.indptr,
        )
    for name, array in (artifact.trees or {}).items():
        arrays[f"trees_{name}"] = array
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def load(blob: bytes) -> Artifact:
    with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
        meta: dict[str, Any] = json.loads(arrays["meta"].tobytes())
        if meta.get("format") != FORMAT:
            raise ValueError(
                f"model artifact format {meta.get('format')!r} is not {FORMAT}: retrain the model"
            )
        classes = list(meta["classes"])
        counts = [
            sparse.csr_matrix(
                (arrays[f"h{i}_data"], arrays[f"h{i}_indices"], arrays[f"h{i}_indptr"]),
                shape=(len(keys) + 1, len(classes)),
            )
            for i, keys in enumerate(meta["keys"])
        ]
        trees = {name[6:]: arrays[name] for name in arrays.files if name.startswith("trees_")} or None
        W, b, v = arrays["W"], arrays["b"], arrays["v"]
    encoding = meta["encoding"]
    return Artifact(
        classes=classes,
        encoding=Encoding(
            tuple(encoding["tables"]),
            encoding["keep"],
            encoding["correction_weight"],
            tuple(encoding["confidence_tables"]),
        ),
        vocabulary={token: i for i, token in enumerate(meta["vocabulary"])},
        W=W,
        b=b,
        v=v,
        histories=Histories(
            list(meta["tables"]), [{key: i for i, key in enumerate(keys)} for keys in meta["keys"]], counts
        ),
        temperature=float(meta["temperature"]),
        trees=trees,
        auto_apply=meta["auto_apply"],
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
