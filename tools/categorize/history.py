"""The model's inputs as matrices: each expense's tokens (0/1), and, per history table, how the books
categorized the expenses with the same key — as features of each category.

A category c with a (recency-weighted) count n among N expenses of the key gets, per table, two
features: log(1 + n), and n / N in one of six bins of N (1, 2-3, 4-7, 8-15, 16-63, 64+), so that the
model learns how far to trust "3 of 3" against "300 of 400". Only each key's `keep` most frequent
categories count (`Encoding.keep`). A training row's counts are out of fold (its own fold of five left
out), so that the model learns how history carries over to a new expense, not to copy the row's own
label.

Work is done once per distinct expense: most charges repeat a merchant, a band and an empty memo.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from tools.categorize.features import TABLES, ExpenseFacts, tokens

F32 = np.float32
Array = npt.NDArray[Any]
Counts = tuple[sparse.csr_matrix, Array]  # per row: the kept categories' counts (rows, classes), all counts
SHARE_BINS = np.array([2, 4, 8, 16, 64])
PER_TABLE = 2 + len(SHARE_BINS)  # log1p(n), then n / N in the bin of N


def distinct(items: Sequence[Hashable]) -> tuple[list[Any], Array]:
    """The distinct items, first seen first, and each item's position among them."""
    index: dict[Hashable, int] = {}
    which = np.fromiter((index.setdefault(item, len(index)) for item in items), np.int64, len(items))
    return list(index), which


def token_matrix(
    unique: Sequence[ExpenseFacts],
    which: Array,
    mcc_categories: Mapping[str, Sequence[str]],
    vocabulary: Mapping[str, int],
) -> sparse.csr_matrix:
    """(rows, tokens) of 0/1 for known tokens; each distinct expense tokenized once."""
    indptr, indices = [0], list[int]()
    for facts in unique:
        indices.extend(sorted({vocabulary[t] for t in tokens(facts, mcc_categories) if t in vocabulary}))
        indptr.append(len(indices))
    data = np.ones(len(indices), F32)
    matrix = sparse.csr_matrix(
        (data, np.asarray(indices, np.int32), np.asarray(indptr, np.int64)),
        shape=(len(unique), len(vocabulary)),
    )
    return matrix[which]


def learn_vocabulary(
    unique: Sequence[ExpenseFacts], which: Array, mcc_categories: Mapping[str, Sequence[str]], min_count: int
) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """The token matrix of the training rows and its vocabulary: the tokens of at least `min_count` rows
    (rarer ones are noise, such as a memo's one-off name, and slow the fit down). int32 throughout: at
    a few million token occurrences, the intermediates are the training's peak memory."""
    seen: dict[str, int] = {}
    lengths = np.zeros(len(unique), np.int32)
    chunks = []
    for i, facts in enumerate(unique):
        ids = np.unique(
            np.fromiter((seen.setdefault(t, len(seen)) for t in tokens(facts, mcc_categories)), np.int32)
        )
        lengths[i] = len(ids)
        chunks.append(ids)
    flat = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
    del chunks
    rows_per_expense = np.bincount(which, minlength=len(unique))
    counts = np.bincount(flat, weights=np.repeat(rows_per_expense, lengths), minlength=len(seen))
    keep = counts >= min_count
    remap = np.full(len(seen), -1, np.int32)
    remap[keep] = np.arange(int(keep.sum()), dtype=np.int32)
    vocabulary = {token: int(remap[i]) for token, i in seen.items() if keep[i]}
    del seen
    mapped = remap[flat]
    del flat
    ok = mapped >= 0
    per_row = (
        np.add.reduceat(ok.astype(np.int32), np.concatenate([[0], np.cumsum(lengths)[:-1]]))
        if len(lengths)
        else np.zeros(0, np.int32)
    )
    per_row = np.where(lengths > 0, per_row, 0)
    indptr = np.concatenate([[0], np.cumsum(per_row, dtype=np.int64)])
    indices = mapped[ok]
    del mapped, ok
    matrix = sparse.csr_matrix(
        (np.ones(len(indices), F32), indices, indptr), shape=(len(unique), len(vocabulary))
    )
    matrix.sort_indices()
    return (
        matrix
        if len(which) == len(unique) and bool(np.all(which == np.arange(len(which))))
        else matrix[which]
    ), vocabulary


def table_keys(
    unique: Sequence[ExpenseFacts], which: Array, names: Sequence[str]
) -> tuple[list[Array], list[dict[str, int]]]:
    """Per table, each row's key id (-1: no key) and the key -> id map."""
    ids, maps = [], []
    for name in names:
        key_of, known = TABLES[name], dict[str, int]()
        found = np.fromiter(
            ((known.setdefault(k, len(known)) if (k := key_of(f)) else -1) for f in unique),
            np.int64,
            len(unique),
        )
        ids.append(found[which])
        maps.append(known)
    return ids, maps


def count_matrix(ids: Array, labels: Array, weights: Array, keys: int, classes: int) -> sparse.csr_matrix:
    """(keys + 1, classes) weighted label counts per key; the last row (no key) stays empty."""
    ok = ids >= 0
    return sparse.csr_matrix((weights[ok], (ids[ok], labels[ok])), shape=(keys + 1, classes), dtype=F32)


def prune(counts: sparse.csr_matrix, keep: int) -> Counts:
    """Each row's `keep` largest counts (ties: the lower class first), and the row totals before."""
    counts = counts.tocsr()
    counts.eliminate_zeros()
    total = np.asarray(counts.sum(axis=1)).ravel()
    lengths = np.diff(counts.indptr)
    if keep <= 0 or lengths.max(initial=0) <= keep:
        return counts, total
    row = np.repeat(np.arange(counts.shape[0]), lengths)
    order = np.lexsort((counts.indices, -counts.data, row))
    rank = np.arange(len(row)) - np.repeat(counts.indptr[:-1], lengths)
    chosen = np.zeros(len(row), bool)
    chosen[order[rank < keep]] = True
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row[chosen], minlength=counts.shape[0]))])
    kept = sparse.csr_matrix((counts.data[chosen], counts.indices[chosen], indptr), shape=counts.shape)
    return kept, total


def rows_of(counts: sparse.csr_matrix, ids: Array) -> sparse.csr_matrix:
    """Rows `ids` of a count matrix whose last row is empty; -1 takes that empty row."""
    return counts[np.where(ids >= 0, ids, counts.shape[0] - 1)]


def lookup(counts: sparse.csr_matrix, ids: Array, keep: int, totals: Array | None = None) -> Counts:
    """The pruned counts of rows `ids` (-1: none) of a count matrix whose last row is empty, and their
    totals, straight from its arrays: scipy's slicing costs more than the lookup itself when a call asks
    about one expense. `totals`: the matrix's row totals, when known."""
    ids = np.where(ids >= 0, ids, counts.shape[0] - 1)
    if totals is None:
        totals = row_totals(counts)
    starts = counts.indptr[ids]
    lengths = counts.indptr[ids + 1] - starts
    first = np.cumsum(lengths) - lengths  # where each row's entries start in the gathered arrays
    row = np.repeat(np.arange(len(ids)), lengths)
    at = np.arange(int(lengths.sum())) - np.repeat(first, lengths) + np.repeat(starts, lengths)
    data, indices = counts.data[at], counts.indices[at]
    if keep > 0 and lengths.max(initial=0) > keep:
        order = np.lexsort((indices, -data, row))
        chosen = np.sort(order[(np.arange(len(row)) - np.repeat(first, lengths)) < keep])
        row, data, indices = row[chosen], data[chosen], indices[chosen]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(ids)))])
    kept = sparse.csr_matrix((data, indices, indptr), shape=(len(ids), counts.shape[1]))
    return kept, totals[ids]


def row_totals(counts: sparse.csr_matrix) -> Array:
    running = np.concatenate([[0.0], np.cumsum(counts.data, dtype=np.float64)])
    totals: Array = running[counts.indptr[1:]] - running[counts.indptr[:-1]]
    return totals


def out_of_fold(
    key_ids: Sequence[Array],
    labels: Array,
    weights: Array,
    classes: int,
    fold: Array,
    folds: int,
    keep: int,
    chosen: Array,
) -> list[Counts]:
    """Per table, the counts of the rows `chosen` over the rows of the other folds with their key: per
    (key, fold), all the key's counts minus the fold's own."""
    found = []
    for ids in key_ids:
        keys = int(ids.max()) + 1 if len(ids) else 0
        whole = count_matrix(ids, labels, weights, keys, classes)
        pair = np.where(ids >= 0, ids * folds + fold, -1)
        own = count_matrix(pair, labels, weights, keys * folds, classes)
        unique, inverse = np.unique(pair, return_inverse=True)
        others = rows_of(whole, np.where(unique >= 0, unique // folds, -1)) - rows_of(own, unique)
        others.data[others.data < 1e-6] = 0
        kept, total = prune(others, keep)
        found.append((kept[inverse[chosen]], total[inverse[chosen]]))
    return found


def class_features(per_table: Sequence[Counts], rows: int, classes: int) -> sparse.csr_matrix:
    """(rows, classes * F), F = PER_TABLE * tables: for table t and class c with count n among N,
    log1p(n) at column c*F + t*PER_TABLE and n/N at c*F + t*PER_TABLE + 1 + bin(N)."""
    width = PER_TABLE * len(per_table)
    lengths = [np.diff(kept.indptr) * 2 for kept, _ in per_table]
    per_row = np.sum(lengths, axis=0) if lengths else np.zeros(rows, np.int64)
    indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64)
    indices = np.empty(indptr[-1], np.int32)
    data = np.empty(indptr[-1], F32)
    offset = indptr[:-1].copy()
    for t, ((kept, total), length) in enumerate(zip(per_table, lengths, strict=True)):
        if kept.nnz:
            row = np.repeat(np.arange(rows), np.diff(kept.indptr))
            within = np.arange(kept.nnz) - np.repeat(kept.indptr[:-1], np.diff(kept.indptr))
            at = offset[row] + 2 * within
            columns = kept.indices.astype(np.int64) * width + t * PER_TABLE
            indices[at], data[at] = columns, np.log1p(kept.data)
            indices[at + 1] = columns + 1 + np.searchsorted(SHARE_BINS, total[row], side="right")
            data[at + 1] = kept.data / np.maximum(total[row], 1e-9)
        offset += length
    return sparse.csr_matrix((data, indices, indptr), shape=(rows, max(width, 1) * classes))


@dataclass
class Histories:
    """Per table: key -> row of a (keys + 1, classes) matrix of weighted counts (the last row empty)."""

    names: list[str]
    keys: list[dict[str, int]]
    counts: list[sparse.csr_matrix]
    totals: list[Array] = field(default_factory=list)  # each matrix's row totals, computed once

    def lookup(
        self,
        unique: Sequence[ExpenseFacts],
        which: Array,
        keep: int,
        extra: Callable[[str], sparse.csr_matrix] | None = None,
    ) -> list[Counts]:
        """Per table, each row's counts pruned to `keep` categories; `extra(table)` gives counts of the
        distinct expenses to add first (people's corrections since training)."""
        if len(self.totals) != len(self.counts):
            self.totals = [row_totals(counts) for counts in self.counts]
        found = []
        for name, known, counts, totals in zip(self.names, self.keys, self.counts, self.totals, strict=True):
            key_of = TABLES[name]
            ids = np.fromiter((known.get(key_of(f), -1) for f in unique), np.int64, len(unique))
            if extra is None:
                found.append(lookup(counts, ids[which], keep, totals))
            else:
                kept, total = prune(rows_of(counts, ids) + extra(name), keep)
                found.append((kept[which], total[which]))
        return found
