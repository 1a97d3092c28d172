"""Embed texts or a file of texts with any model reference (:func:`embed`; :func:`embed_file` is the library
side of ``luxembedder embed``)."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.settings import Settings
from luxembedder.utils.io import atomic_write_bytes, read_texts

logger = logging.getLogger(__name__)


def embed(
    texts: str | Sequence[str],
    model: str | Path | Any = "me5-small",
    batch_size: int = 32,
    bf16: bool = False,
    settings: Settings | None = None,
    show_progress: bool = False,
) -> np.ndarray:
    """Embeddings of ``texts`` (float32, L2-normalised rows, input order; one vector for a single string).

    ``model``: a registry name, a model folder, a hub id (online only) or an encoder already loaded with
    :func:`~luxembedder.models.registry.load_encoder` (reuse it to avoid loading the model per call). The
    model's prompt (e5's ``"query: "``) is applied by the model itself.
    """
    from luxembedder.models.encoder import encode_texts

    single = isinstance(texts, str)
    items = [texts] if single else list(texts)
    if isinstance(model, str | Path):
        from luxembedder.models.registry import load_encoder

        encoder = load_encoder(model, settings, bf16=bf16)
    else:
        encoder = model
    emb = encode_texts(encoder, items, batch_size=batch_size, show_progress=show_progress)
    return emb[0] if single else emb


def embed_file(
    model: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    column: str = "text",
    skip_empty: bool = False,
    batch_size: int = 32,
    bf16: bool = False,
    settings: Settings | None = None,
    stats: dict[str, float] | None = None,
) -> Path:
    """Read texts (see :func:`luxembedder.utils.io.read_texts`), encode, write a float32 ``.npy`` atomically.

    ``stats``, when given, receives ``sentences`` and ``seconds`` (encoding only, model loading excluded).
    """
    import time

    from luxembedder.models.encoder import encode_texts
    from luxembedder.models.registry import load_encoder

    texts = read_texts(input_path, column=column, skip_empty=skip_empty)
    encoder = load_encoder(model, settings, bf16=bf16)
    logger.info("Encoding %d texts from %s with %s", len(texts), input_path, encoder.name)
    t0 = time.perf_counter()
    emb = encode_texts(encoder, texts, batch_size=batch_size, show_progress=True)
    if stats is not None:
        stats.update(sentences=len(texts), seconds=time.perf_counter() - t0)
    buf = io.BytesIO()
    np.save(buf, emb.astype(np.float32))
    out = atomic_write_bytes(output_path, buf.getvalue())
    logger.info("Wrote %s %s", out, emb.shape)
    return out
