"""The encoder interface every stage uses, and its sentence-transformers implementation.

Anything with ``name`` and ``encode(texts, batch_size=..., show_progress=...) -> np.ndarray`` (float32,
L2-normalised rows, input order) is an :class:`Encoder`; evaluation, mining and analysis accept any of them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from luxembedder.utils.io import sha256_file, sha256_text

logger = logging.getLogger(__name__)


@runtime_checkable
class Encoder(Protocol):
    """Minimal encoder contract: a stable ``name`` (used in cache keys and results) and ``encode``."""

    name: str

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Embed texts: float32 array of shape (len(texts), dim), rows L2-normalised, in input order."""
        ...


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation in float32 (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class SentenceTransformerEncoder:
    """An :class:`Encoder` over a ``SentenceTransformer``; the model's own default prompt is applied.

    Batches are length-sorted by sentence-transformers itself; output is returned in input order.
    """

    def __init__(self, model: Any, name: str, bf16: bool = False) -> None:
        self.model = model
        self.name = name
        self.bf16 = bf16
        if bf16:
            import torch

            self.model = self.model.to(torch.bfloat16)

    @property
    def dim(self) -> int:
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dim())  # the new name first: the old one warns in sentence-transformers >= 5.2

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        emb = self.model.encode(texts, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=False,
                                convert_to_tensor=True, normalize_embeddings=True)
        return emb.float().cpu().numpy().astype(np.float32, copy=False)

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        if not show_progress or len(texts) <= batch_size:
            return self._encode(texts, batch_size)
        # Our own bar counts sentences (sentence-transformers' counts anonymous "Batches"). Sorting by length
        # once, as sentence-transformers does inside a call, keeps the chunks' padding as low as one call's.
        from tqdm.auto import tqdm

        order = np.argsort([-len(t) for t in texts], kind="stable")
        chunk = batch_size * 16
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with tqdm(total=len(texts), desc=f"encoding ({self.name})", unit=" sentences") as bar:
            for start in range(0, len(texts), chunk):
                idx = order[start: start + chunk]
                out[idx] = self._encode([texts[i] for i in idx], batch_size)
                bar.update(len(idx))
        return out

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder({self.name!r}, bf16={self.bf16})"


def encode_texts(
    encoder: Encoder, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False
) -> np.ndarray:
    """Encode and check the contract (shape, dtype, finite values)."""
    emb = np.asarray(encoder.encode(texts, batch_size=batch_size, show_progress=show_progress))
    if emb.shape[0] != len(texts):
        raise RuntimeError(f"encoder {encoder.name} returned {emb.shape[0]} rows for {len(texts)} texts")
    if not np.isfinite(emb).all():
        raise RuntimeError(f"encoder {encoder.name} returned non-finite values")
    return emb.astype(np.float32, copy=False)


def model_fingerprint(path: Path) -> str:
    """The identity of a local model folder's weights: sha256 over each weight file's relative name and the
    sha256 of its contents (not its path or mtime), so a copy of the same weights on another machine has the
    same fingerprint and results merge. File hashes are memoised (:func:`luxembedder.utils.io.sha256_file`).
    Its listing format predates :func:`~luxembedder.utils.io.sha256_files` and is kept: model names (and so
    stored results) are built from it."""
    root = Path(path)
    files = sorted({*root.glob("**/*.safetensors"), *root.glob("**/*.bin")})
    listing = "".join(f"{f.relative_to(root).as_posix()}:{sha256_file(f)}\n" for f in files)
    return sha256_text(listing)[:16]


def weights_fingerprint(model: Any) -> str:
    """The identity of an in-memory torch model: sha256 over its state dict's names, dtypes, shapes and bytes."""
    import hashlib

    import torch

    h = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)}\n".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]
