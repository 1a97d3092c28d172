"""Article matching and sentence pairing at archive scale on synthetic embeddings (float32, 384-d).

Default: 100k articles per language over ~4 years (70 per day), ~10 sentences each = 1M sentences per
language. Embeddings are memory-mapped from .npy files (as the pipeline's embed stage writes them), so the
peak RSS measured here is the working memory of matching + pairing + window margins beyond the page cache.

    .venv/bin/python benchmarks/mining_scale.py [--scale 0.1] [--dim 384] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def build(tmp: Path, n_articles: int, sents_per_article: int, dim: int, seed: int, days: int):
    """Target articles are noisy copies of source articles (same or next day); chunked writes to .npy."""
    rng = np.random.default_rng(seed)
    src_days = np.sort(rng.integers(0, days, n_articles))
    shift = rng.integers(0, 2, n_articles)
    tgt_days = src_days + shift
    lens = rng.integers(max(1, sents_per_article // 2), sents_per_article * 3 // 2 + 1, n_articles)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    n_sent = int(offsets[-1])
    paths = {}
    for name in ("src_sent", "tgt_sent"):
        paths[name] = tmp / f"{name}.npy"
        mm = np.lib.format.open_memmap(paths[name], mode="w+", dtype=np.float32, shape=(n_sent, dim))
        chunk = 200_000
        for a in range(0, n_sent, chunk):
            b = min(n_sent, a + chunk)
            r = np.random.default_rng([seed, a])  # same base for src and tgt: tgt = src + noise
            x = r.standard_normal((b - a, dim)).astype(np.float32)
            if name == "tgt_sent":
                x += 0.6 * rng.standard_normal((b - a, dim)).astype(np.float32)
            mm[a:b] = x / np.linalg.norm(x, axis=1, keepdims=True)
        mm.flush()
        del mm
    return src_days, tgt_days, offsets, paths


def main() -> None:
    from luxembedder.mining.matching import match_articles
    from luxembedder.mining.pipeline import mean_rows
    from luxembedder.mining.scoring import candidate_pairs, window_knn_for_candidates

    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-margin", action="store_true", help="skip the window-pool margin step")
    args = ap.parse_args()
    n_articles = int(100_000 * args.scale)
    days = max(30, int(1461 * args.scale))  # 4 years at full scale, same articles/day at any scale
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        t0 = time.perf_counter()
        import concurrent.futures as cf
        import multiprocessing as mp

        # build in a child process so that its buffers do not count in this process's peak memory
        with cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
            src_days, tgt_days, offsets, paths = ex.submit(build, tmp, n_articles, 10, args.dim, args.seed,
                                                           days).result()
        t_build = time.perf_counter() - t0
        import faiss  # noqa: F401  (imported before the baseline, as the pipeline has it loaded)
        import torch  # noqa: F401
        se = np.load(paths["src_sent"], mmap_mode="r")
        te = np.load(paths["tgt_sent"], mmap_mode="r")
        emb_bytes = se.nbytes + te.nbytes
        rss0 = _rss_mb()
        import psutil

        proc = psutil.Process()
        peak = [rss0]

        def sample() -> None:
            peak[0] = max(peak[0], proc.memory_info().rss / 2**20)

        t0 = time.perf_counter()
        a_src = mean_rows(se, offsets)
        a_tgt = mean_rows(te, offsets)
        t_mean = time.perf_counter() - t0
        sample()
        m = match_articles(a_src, src_days, a_tgt, tgt_days, 1, 0.5)
        t_match = time.perf_counter() - t0
        sample()
        t0 = time.perf_counter()
        c = candidate_pairs(se, offsets, te, offsets, m.src, m.tgt, knn=False)
        t_pair = time.perf_counter() - t0
        sample()
        t_margin = 0.0
        if not args.no_margin:
            t0 = time.perf_counter()
            sday = np.repeat(src_days, np.diff(offsets))
            tday = np.repeat(tgt_days, np.diff(offsets))
            c = window_knn_for_candidates(c, se, sday, te, tday, 1, k=4)
            t_margin = time.perf_counter() - t0
            sample()
        from luxembedder.utils.provenance import peak_rss_mb

        out = {
            "articles_per_language": n_articles, "days": days, "sentences_per_language": int(offsets[-1]),
            "dim": args.dim, "embedding_matrices_mb": round(emb_bytes / 2**20, 1),
            "article_matches": len(m), "correct_matches": int((m.src == m.tgt).sum()), "candidates": len(c),
            "build_s": round(t_build, 1), "article_embeddings_s": round(t_mean, 1), "match_s": round(t_match - t_mean, 1), "pairing_s": round(t_pair, 1),
            "margin_s": round(t_margin, 1), "rss_before_mb": round(rss0, 1),
            "peak_rss_sampled_mb": round(peak[0], 1), "peak_rss_process_mb": round(peak_rss_mb(), 1),
            "peak_over_embeddings": round(peak_rss_mb() / (emb_bytes / 2**20), 2),
            "peak_minus_baseline_over_embeddings": round((peak_rss_mb() - rss0) / (emb_bytes / 2**20), 2),
        }
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
