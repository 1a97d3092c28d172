import numpy as np
import pytest

from luxembedder.models.cache import CachedEncoder


class CountingEncoder:
    name = "counting"

    def __init__(self, fail_after: int | None = None):
        self.seen: list[str] = []
        self.fail_after = fail_after

    def encode(self, texts, batch_size=32, show_progress=False):
        if self.fail_after is not None and len(self.seen) >= self.fail_after:
            raise KeyboardInterrupt
        self.seen.extend(texts)
        out = np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_each_text_encoded_once_and_order_kept(tmp_path):
    base = CountingEncoder()
    enc = CachedEncoder(base, tmp_path)
    a = enc.encode(["a", "bb", "a", "ccc"])
    b = enc.encode(["ccc", "a"])
    assert base.seen == ["a", "bb", "ccc"]
    np.testing.assert_array_equal(b, a[[3, 0]])


def test_interrupted_run_resumes_from_finished_shards(tmp_path):
    texts = [f"text {i}" for i in range(10)]
    with pytest.raises(KeyboardInterrupt):
        CachedEncoder(CountingEncoder(fail_after=4), tmp_path, shard_size=4).encode(texts)
    resumed = CountingEncoder()
    out = CachedEncoder(resumed, tmp_path, shard_size=4).encode(texts)
    assert resumed.seen == texts[4:], "the finished shard must be reused"
    full = CachedEncoder(CountingEncoder(), None).encode(texts)
    np.testing.assert_array_equal(out, full)
