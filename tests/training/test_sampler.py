"""Length-grouped no-duplicates sampler: a permutation of the rows, no repeated text, less padding."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import Dataset
from luxembedder.training.sampler import LengthGroupedNoDuplicatesBatchSampler


def dataset(n: int = 203, dup_every: int = 7, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 120, size=n)
    anchors = ["a" * int(k) + f"#{i}" for i, k in enumerate(lengths)]
    positives = [f"p{i % 50 if i % dup_every == 0 else i}" for i in range(n)]  # repeated positives
    return Dataset.from_dict({"anchor": anchors, "positive": positives})


@pytest.mark.parametrize("drop_last", [False, True])
def test_every_row_once_and_no_duplicate_text_in_a_batch(drop_last: bool):
    ds = dataset()
    s = LengthGroupedNoDuplicatesBatchSampler(ds, batch_size=8, drop_last=drop_last, seed=3, group_batches=4)
    batches = list(s)
    assert len(batches) == len(s)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))
    if drop_last:
        assert all(len(b) == 8 for b in batches) and len(ds) - len(flat) < 8 * 2
    else:
        assert sorted(flat) == list(range(len(ds)))
    for b in batches:
        texts = [t for i in b for t in (ds[i]["anchor"], ds[i]["positive"])]
        assert len(texts) == len(set(texts)), b


def test_deterministic_per_epoch_and_different_across_epochs():
    ds = dataset()
    a = LengthGroupedNoDuplicatesBatchSampler(ds, batch_size=8, drop_last=False, seed=1)
    b = LengthGroupedNoDuplicatesBatchSampler(ds, batch_size=8, drop_last=False, seed=1)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first


def test_less_padding_than_random_batches():
    ds = dataset(n=640, dup_every=10**9)
    s = LengthGroupedNoDuplicatesBatchSampler(ds, batch_size=16, drop_last=False, seed=0, group_batches=8)
    lengths = s.lengths

    def padded(batches: list[list[int]]) -> int:
        return sum(len(b) * int(lengths[b].max()) for b in batches)

    rng = np.random.default_rng(0)
    perm = rng.permutation(len(ds))
    random_batches = [list(perm[i:i + 16]) for i in range(0, len(ds), 16)]
    assert padded(list(s)) < 0.75 * padded(random_batches)


def test_group_batches_must_be_positive():
    with pytest.raises(ValueError, match="group_batches"):
        LengthGroupedNoDuplicatesBatchSampler(dataset(), batch_size=4, drop_last=False, group_batches=0)
