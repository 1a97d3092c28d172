"""Evaluation metrics in numpy: bitext retrieval and triplets (intervals and paired tests: :mod:`.stats`).

All functions take embedding matrices (rows = texts; they are L2-normalised here, so raw vectors are fine)
and are vectorised. Each bitext metric names its protocol:

- :func:`retrieval_accuracy`: top-1 cosine nearest neighbour, both directions and their mean. With texts,
  a retrieval is correct when the retrieved text equals the gold text of the query's row (sources with
  several translations, duplicated rows); without, when the retrieved row is the query's row.
- :func:`margin_retrieval_accuracy`: the same with the ratio margin (Artetxe & Schwenk 2019, k=4).
- :func:`mteb_bitext_f1`: MTEB's BitextMining score: one direction, nearest neighbour by cosine, the
  predicted row index against the gold row index, sklearn weighted F1 (also precision, recall, accuracy).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d embedding matrix, got shape {x.shape}")
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities, shape (len(a), len(b))."""
    return _normalise(a) @ _normalise(b).T


def _codes(src_texts: Sequence[str] | None, tgt_texts: Sequence[str] | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer ids such that equal texts share an id (rows ids when texts are not given)."""
    if src_texts is None and tgt_texts is None:
        return np.arange(n), np.arange(n)
    if src_texts is None or tgt_texts is None:
        raise ValueError("give both src_texts and tgt_texts, or neither")
    if len(src_texts) != n or len(tgt_texts) != n:
        raise ValueError("texts must have one entry per embedding row")
    _, s = np.unique(np.asarray(src_texts, dtype=object).astype(str), return_inverse=True)
    _, t = np.unique(np.asarray(tgt_texts, dtype=object).astype(str), return_inverse=True)
    return s.ravel(), t.ravel()


def _check_pairs(src_emb: np.ndarray, tgt_emb: np.ndarray) -> int:
    if len(src_emb) != len(tgt_emb):
        raise ValueError(f"bitext needs row-aligned embeddings: {len(src_emb)} vs {len(tgt_emb)} rows")
    if len(src_emb) == 0:
        raise ValueError("bitext needs at least one pair")
    return len(src_emb)


def _correct_from_scores(
    scores: np.ndarray, s_codes: np.ndarray, t_codes: np.ndarray, any_translation: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    fwd_idx = scores.argmax(axis=1)
    bwd_idx = scores.argmax(axis=0)
    if not any_translation:
        return t_codes[fwd_idx] == t_codes, s_codes[bwd_idx] == s_codes
    # correct when (query text, retrieved text) is any gold pair of the set
    width = int(max(s_codes.max(), t_codes.max())) + 1
    gold = s_codes * width + t_codes
    fwd = np.isin(s_codes * width + t_codes[fwd_idx], gold)
    bwd = np.isin(s_codes[bwd_idx] * width + t_codes, gold)
    return fwd, bwd


def retrieval_correct(
    src_emb: np.ndarray, tgt_emb: np.ndarray,
    src_texts: Sequence[str] | None = None, tgt_texts: Sequence[str] | None = None,
    any_translation: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row booleans ``(src→tgt correct, tgt→src correct)`` of top-1 cosine retrieval.

    ``any_translation=True`` (lenient, needs texts) also accepts any other gold translation of the query's
    text, so identical queries with different translations can all be right.
    """
    n = _check_pairs(src_emb, tgt_emb)
    s, t = _codes(src_texts, tgt_texts, n)
    return _correct_from_scores(cosine_matrix(src_emb, tgt_emb), s, t, any_translation)


def _summary(fwd: np.ndarray, bwd: np.ndarray) -> dict[str, float]:
    a, b = float(fwd.mean()), float(bwd.mean())
    return {"src2tgt": a, "tgt2src": b, "mean": (a + b) / 2}


def retrieval_accuracy(
    src_emb: np.ndarray, tgt_emb: np.ndarray,
    src_texts: Sequence[str] | None = None, tgt_texts: Sequence[str] | None = None,
    any_translation: bool = False,
) -> dict[str, float]:
    """Top-1 cosine retrieval accuracy: ``{src2tgt, tgt2src, mean}`` (fractions)."""
    return _summary(*retrieval_correct(src_emb, tgt_emb, src_texts, tgt_texts, any_translation))


def margin_scores(src_emb: np.ndarray, tgt_emb: np.ndarray, k: int = 4) -> np.ndarray:
    """Ratio-margin scores cos(x, y) / ((mean knn cos of x + mean knn cos of y) / 2), k capped at n."""
    sims = cosine_matrix(src_emb, tgt_emb)
    kx = min(k, sims.shape[1])
    ky = min(k, sims.shape[0])
    x_knn = -np.partition(-sims, kx - 1, axis=1)[:, :kx].mean(axis=1)
    y_knn = -np.partition(-sims, ky - 1, axis=0)[:ky, :].mean(axis=0)
    return sims / ((x_knn[:, None] + y_knn[None, :]) / 2)


def margin_retrieval_correct(
    src_emb: np.ndarray, tgt_emb: np.ndarray,
    src_texts: Sequence[str] | None = None, tgt_texts: Sequence[str] | None = None, k: int = 4,
    any_translation: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row booleans of top-1 ratio-margin retrieval, both directions."""
    n = _check_pairs(src_emb, tgt_emb)
    s, t = _codes(src_texts, tgt_texts, n)
    return _correct_from_scores(margin_scores(src_emb, tgt_emb, k), s, t, any_translation)


def margin_retrieval_accuracy(
    src_emb: np.ndarray, tgt_emb: np.ndarray,
    src_texts: Sequence[str] | None = None, tgt_texts: Sequence[str] | None = None, k: int = 4,
    any_translation: bool = False,
) -> dict[str, float]:
    """Ratio-margin (k nearest neighbours) top-1 retrieval accuracy: ``{src2tgt, tgt2src, mean}``."""
    return _summary(*margin_retrieval_correct(src_emb, tgt_emb, src_texts, tgt_texts, k, any_translation))


def mteb_bitext_f1(src_emb: np.ndarray, tgt_emb: np.ndarray) -> dict[str, float]:
    """MTEB BitextMining scores for queries ``src`` against ``tgt``: weighted precision/recall/F1, accuracy.

    Labels are row indices (gold = own row), predictions the nearest ``tgt`` row by cosine, so duplicated
    texts count as errors exactly as in MTEB.
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    n = _check_pairs(src_emb, tgt_emb)
    pred = cosine_matrix(src_emb, tgt_emb).argmax(axis=1)
    gold = np.arange(n)
    return {
        "precision": float(precision_score(gold, pred, zero_division=0, average="weighted")),
        "recall": float(recall_score(gold, pred, zero_division=0, average="weighted")),
        "f1": float(f1_score(gold, pred, zero_division=0, average="weighted")),
        "accuracy": float(accuracy_score(gold, pred)),
    }


def triplet_correct(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """Per-row booleans: cos(anchor, positive) > cos(anchor, negative); ties count as wrong."""
    a, p, n = _normalise(anchor), _normalise(positive), _normalise(negative)
    if not (len(a) == len(p) == len(n)):
        raise ValueError("anchor, positive and negative need the same number of rows")
    return np.einsum("ij,ij->i", a, p) > np.einsum("ij,ij->i", a, n)


def triplet_accuracy(
    anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray, groups: Sequence[str | None] | None = None,
) -> dict[str, object]:
    """``{accuracy, n, per_group: {group: {accuracy, n}}}``; ties count as wrong."""
    correct = triplet_correct(anchor, positive, negative)
    out: dict[str, object] = {"accuracy": float(correct.mean()) if len(correct) else float("nan"),
                              "n": len(correct)}
    if groups is not None:
        if len(groups) != len(correct):
            raise ValueError("groups must have one entry per row")
        g = np.asarray(["" if x is None else str(x) for x in groups], dtype=object)
        names, inv = np.unique(g.astype(str), return_inverse=True)
        counts = np.bincount(inv, minlength=len(names))
        hits = np.bincount(inv, weights=correct.astype(float), minlength=len(names))
        out["per_group"] = {str(name): {"accuracy": float(h / c), "n": int(c)}
                            for name, h, c in zip(names, hits, counts, strict=True)}
    return out
