"""Embed a file of texts with any model reference (the library side of ``luxembedder embed``)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from luxembedder.models.encoder import encode_texts
from luxembedder.models.registry import load_encoder
from luxembedder.settings import Settings
from luxembedder.utils.io import atomic_write_npy, read_texts

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
) -> Path:
    """Read texts (see :func:`luxembedder.utils.io.read_texts`), encode, write a float32 ``.npy`` atomically."""

    texts = read_texts(input_path, column=column, skip_empty=skip_empty)
    encoder = load_encoder(model, settings, bf16=bf16)
    logger.info("Encoding %d texts from %s with %s", len(texts), input_path, encoder.name)
    emb = encode_texts(encoder, texts, batch_size=batch_size, show_progress=True)
    out = atomic_write_npy(output_path, emb.astype(np.float32))
    logger.info("Wrote %s %s", out, emb.shape)
    return out
