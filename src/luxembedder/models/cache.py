"""An on-disk embedding cache keyed by model name and text hash, written in atomic shards.

:class:`CachedEncoder` wraps any :class:`~luxembedder.models.encoder.Encoder`: texts already cached are
read back, the rest are encoded in chunks of ``shard_size`` and each chunk is written as its own shard
as soon as it is done, so an interrupted job resumes from the last finished shard.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from luxembedder.models.encoder import Encoder
from luxembedder.utils.io import atomic_write_npz

logger = logging.getLogger(__name__)


def text_key(text: str) -> str:
    """16-byte hex digest identifying a text (exact bytes, no normalisation)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-@]+", "_", name)[:120]


class CachedEncoder:
    """Encoder with a persistent per-model cache. ``cache_dir=None`` keeps the cache in memory only."""

    def __init__(self, encoder: Encoder, cache_dir: str | Path | None = None, shard_size: int = 4096) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.shard_size = shard_size
        self.dir = Path(cache_dir) / _safe(encoder.name) if cache_dir is not None else None
        self._index: dict[str, np.ndarray] = {}
        self.hits = 0
        self.misses = 0
        if self.dir is not None and self.dir.is_dir():
            for shard in sorted(self.dir.glob("shard-*.npz")):
                with np.load(shard) as data:
                    for key, vec in zip(data["keys"].tolist(), data["vectors"], strict=True):
                        self._index[key] = vec
            logger.debug("embedding cache %s: %d vectors", self.dir, len(self._index))

    def __len__(self) -> int:
        return len(self._index)

    def _write_shard(self, keys: list[str], vectors: np.ndarray) -> None:
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        # named by content, so processes sharing a cache directory never overwrite each other's shards
        digest = hashlib.blake2b("".join(keys).encode(), digest_size=8).hexdigest()
        atomic_write_npz(self.dir / f"shard-{digest}.npz", {"keys": np.array(keys),
                                                             "vectors": vectors.astype(np.float32)})

    def plan_chunks(self, requests: Sequence[Sequence[str]]) -> list[list[tuple[str, str]]]:
        """The ``(key, text)`` chunks that ``encode`` would pass to the encoder, one call per request in
        order, given what is cached now: the same texts in the same chunks, so that another process can
        encode them (e.g. a Ray actor) and :meth:`add` them with results identical to a local run."""
        seen = set(self._index)
        chunks: list[list[tuple[str, str]]] = []
        for texts in requests:
            missing: dict[str, str] = {}
            for t in texts:
                k = text_key(t)
                if k not in seen and k not in missing:
                    missing[k] = t
            todo = list(missing.items())
            chunks += [todo[s : s + self.shard_size] for s in range(0, len(todo), self.shard_size)]
            seen.update(missing)
        return chunks

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors computed elsewhere (one chunk of :meth:`plan_chunks`): index and one shard."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape[0] != len(keys):
            raise RuntimeError(f"{len(keys)} keys but {vectors.shape[0]} vectors")
        for k, v in zip(keys, vectors, strict=True):
            self._index[k] = v
        self._write_shard(list(keys), vectors)

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in self._index and k not in missing:
                missing[k] = t
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        todo = list(missing.items())
        for start in range(0, len(todo), self.shard_size):
            chunk = todo[start : start + self.shard_size]
            vecs = np.asarray(
                self.encoder.encode([t for _, t in chunk], batch_size=batch_size, show_progress=show_progress),
                dtype=np.float32,
            )
            for (k, _), v in zip(chunk, vecs, strict=True):
                self._index[k] = v
            self._write_shard([k for k, _ in chunk], vecs)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._index[k] for k in keys]).astype(np.float32, copy=False)
