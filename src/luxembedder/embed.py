"""Embed a file of texts with any model reference (the library side of ``luxembedder embed``)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from luxembedder.settings import Settings
from luxembedder.utils.io import atomic_write_bytes, read_texts

logger = logging.getLogger(__name__)


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
