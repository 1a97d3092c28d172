"""Length-grouped batches without duplicate texts: less padding on CPU, same in-batch-negative guarantee.

A random batch of 32 news sentences is padded to its longest member (often 3× the mean length), so most of
a CPU's time goes to padding. :class:`LengthGroupedNoDuplicatesBatchSampler` does what Hugging Face's
``group_by_length`` does, and keeps sentence-transformers' ``NoDuplicatesBatchSampler`` guarantee (no text
twice in a batch, so no false in-batch negatives): shuffle, cut into groups of ``group_batches`` batches,
sort each group by length, pack batches in that order, then shuffle the batch order. Batches stay random
in content (each group is a random sample) while their members have similar lengths.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
from sentence_transformers.base.sampler import DefaultBatchSampler

logger = logging.getLogger(__name__)


class LengthGroupedNoDuplicatesBatchSampler(DefaultBatchSampler):
    """Batches of similar-length rows with no text repeated inside a batch.

    Args:
        dataset: a ``datasets.Dataset`` of text columns (label columns are ignored).
        batch_size: rows per batch.
        drop_last: drop the epoch's last incomplete batch.
        valid_label_columns: columns that hold labels, not texts.
        generator: unused (numpy's generator, seeded with ``seed + epoch``, makes the order).
        seed: base seed; the order of epoch ``e`` depends only on ``seed + e``.
        group_batches: batches per length-sorted group (larger: less padding, less randomness).
    """

    def __init__(self, dataset: Any, batch_size: int, drop_last: bool, valid_label_columns: list[str] | None = None,
                 generator: Any = None, seed: int = 0, group_batches: int = 16) -> None:
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        if group_batches < 1:
            raise ValueError(f"group_batches must be >= 1, got {group_batches}")
        self.group_batches = group_batches
        labels = set(valid_label_columns or [])
        columns = [c for c in dataset.column_names if c not in labels]
        rows = [tuple(map(str, row)) for row in zip(*(dataset[c] for c in columns), strict=True)] if columns else []
        self._texts = [frozenset(row) for row in rows]
        self.lengths = np.array([sum(map(len, row)) for row in rows], dtype=np.int64)
        self._cache: tuple[int, list[list[int]]] | None = None

    def _pack(self, order: np.ndarray) -> list[list[int]]:
        """Greedy batches in ``order``; a row whose text is already in the open batch waits for a later one."""
        batches: list[list[int]] = []
        remaining = [int(i) for i in order]
        while remaining:
            batch: list[int] = []
            seen: set[str] = set()
            rest: list[int] = []
            for i in remaining:
                if len(batch) < self.batch_size and seen.isdisjoint(self._texts[i]):
                    batch.append(i)
                    seen |= self._texts[i]
                else:
                    rest.append(i)
            batches.append(batch)
            remaining = rest
        return batches

    def batches(self, epoch: int) -> list[list[int]]:
        """The batches of one epoch (deterministic in ``seed + epoch``)."""
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        n = len(self.lengths)
        rng = np.random.default_rng(self.seed + epoch)
        perm = rng.permutation(n)
        group = self.batch_size * self.group_batches
        full: list[list[int]] = []
        carry = np.empty(0, dtype=np.int64)
        for start in range(0, n, group):
            idx = np.concatenate([carry, perm[start:start + group]])
            idx = idx[np.argsort(self.lengths[idx], kind="stable")]
            packed = self._pack(idx)
            full += [b for b in packed if len(b) == self.batch_size]
            carry = np.array([i for b in packed if len(b) < self.batch_size for i in b], dtype=np.int64)
        tail = self._pack(carry) if len(carry) else []
        full += [b for b in tail if len(b) == self.batch_size]
        partial = [b for b in tail if len(b) < self.batch_size]
        if partial and self.drop_last:
            logger.debug("length-grouped sampler: dropping %d rows in incomplete batches", sum(map(len, partial)))
        elif partial:
            full += partial
        out = [full[i] for i in rng.permutation(len(full))]
        self._cache = (epoch, out)
        return out

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.batches(self.epoch)

    def __len__(self) -> int:
        return len(self.batches(self.epoch))


def length_grouped_sampler(group_batches: int = 16) -> Any:
    """A picklable ``batch_sampler`` factory for ``SentenceTransformerTrainingArguments``."""
    return functools.partial(LengthGroupedNoDuplicatesBatchSampler, group_batches=group_batches)
