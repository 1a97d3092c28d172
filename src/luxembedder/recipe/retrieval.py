"""A small translation-retrieval check on bundled lb/en/fr sentences (the demo's first step)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from luxembedder.models.encoder import Encoder, encode_texts
from luxembedder.utils.io import read_table


def bundled_sentences() -> list[dict[str, str]]:
    """Original lb/en/fr sentence triplets shipped with the package."""
    path = resources.files("luxembedder") / "resources" / "demo_sentences.tsv"
    with resources.as_file(path) as p:
        return read_table(p)


def retrieval_table(encoder: Encoder, rows: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """For each lb sentence, the en and fr sentence retrieved by cosine, with correctness and score."""
    rows = rows or bundled_sentences()
    lb = encode_texts(encoder, [r["lb"] for r in rows])
    out = [{"lb": r["lb"]} for r in rows]
    for lang in ("en", "fr"):
        sims = lb @ encode_texts(encoder, [r[lang] for r in rows]).T
        best = sims.argmax(axis=1)
        for i, row in enumerate(out):
            row[f"{lang}_ok"] = bool(best[i] == i)
            row[f"{lang}_cos"] = float(sims[i, best[i]])
            row[f"{lang}_retrieved"] = rows[int(best[i])][lang]
    return out


def retrieval_accuracy(table: list[dict[str, Any]]) -> dict[str, float]:
    return {lang: float(np.mean([r[f"{lang}_ok"] for r in table])) for lang in ("en", "fr")}
