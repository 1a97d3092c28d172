"""Article matching and sentence pairing at archive scale on synthetic embeddings (float32, 384-d).

Default: 100k articles per language over ~4 years (70 per day), ~10 sentences each = 1M sentences per
language. Embeddings are memory-mapped from .npy files (as the pipeline's embed stage writes them) and read
in place. Memory is reported three ways: the gross peak RSS of the process (``VmHWM``, which counts the
mapped embedding pages once they are touched), the peak minus the RSS after imports (interpreter, numpy,
torch, faiss), and the peak of anonymous memory (working memory, excluding file-backed mapped pages),
sampled every 20 ms by a thread. ``--threads`` caps BLAS/OpenMP/torch threads for every stage.

    .venv/bin/python benchmarks/mining_scale.py [--scale 0.1] [--dim 384] [--seed 0] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from luxembedder.utils.provenance import memory_status_mb


class _Sampler:
    """Peak of RssAnon / VmRSS sampled by a background thread."""

    def __init__(self, every_s: float = 0.02) -> None:
        import threading

        self.peak_anon = self.peak_rss = 0.0
        self._stop = threading.Event()
        self._every = every_s
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._every)

    def sample(self) -> None:
        st = memory_status_mb()
        self.peak_anon = max(self.peak_anon, st["RssAnon"])
        self.peak_rss = max(self.peak_rss, st["VmRSS"])

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


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
    from threadpoolctl import threadpool_limits

    from luxembedder.mining.matching import match_articles
    from luxembedder.mining.pipeline import mean_rows
    from luxembedder.mining.scoring import candidate_pairs, window_knn_for_candidates

    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads (set it on a shared CPU)")
    ap.add_argument("--index", default="matmul", choices=["matmul", "flat", "ivf"], help="window kNN search")
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
        import torch

        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
        se = np.load(paths["src_sent"], mmap_mode="r")
        te = np.load(paths["tgt_sent"], mmap_mode="r")
        emb_mb = (se.nbytes + te.nbytes) / 2**20
        base = memory_status_mb()
        times = {}
        with _Sampler() as sampler:
            t0 = time.perf_counter()
            a_src = mean_rows(se, offsets)
            a_tgt = mean_rows(te, offsets)
            times["article_embeddings_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            m = match_articles(a_src, src_days, a_tgt, tgt_days, 1, 0.5)
            times["match_s"] = time.perf_counter() - t0
            del a_src, a_tgt
            t0 = time.perf_counter()
            c = candidate_pairs(se, offsets, te, offsets, m.src, m.tgt, knn=False, threads=args.threads)
            times["pairing_s"] = time.perf_counter() - t0
            if not args.no_margin:
                t0 = time.perf_counter()
                sday = np.repeat(src_days, np.diff(offsets))
                tday = np.repeat(tgt_days, np.diff(offsets))
                c = window_knn_for_candidates(c, se, sday, te, tday, 1, k=4, index=args.index, threads=args.threads)
                times["margin_s"] = time.perf_counter() - t0
                n_margin = int(np.isfinite(c.margin).sum())
                # similarity entries of one (source day x target window) pass: both directions share them
                win = np.searchsorted(tday, sday + 1, "right") - np.searchsorted(tday, sday - 1, "left")
                margin_gflop = 2.0 * args.dim * float(win.sum()) / 1e9
        end = memory_status_mb()
        peak = end["VmHWM"]
        x = np.random.default_rng(0).standard_normal((2048, args.dim)).astype(np.float32)
        x @ x.T
        t0 = time.perf_counter()
        x @ x.T
        matmul_peak = 2 * 2048 * 2048 * args.dim / (time.perf_counter() - t0) / 1e9
        out = {
            "threads": args.threads, "index": args.index,
            "articles_per_language": n_articles, "days": days, "sentences_per_language": int(offsets[-1]),
            "dim": args.dim, "embedding_matrices_mb": round(emb_mb, 1),
            "article_matches": len(m), "correct_matches": int((m.src == m.tgt).sum()), "candidates": len(c),
            "candidates_with_margin": None if args.no_margin else n_margin,
            "pairing_gflop_per_s": round(2.0 * args.dim * len(c) / 1e9 / times["pairing_s"], 1),
            "margin_gflop_per_s": None if args.no_margin or args.index != "matmul" else
            round(margin_gflop / times["margin_s"], 1),
            "matmul_gflop_per_s": round(matmul_peak, 1),
            "build_s": round(t_build, 1), **{k: round(v, 1) for k, v in times.items()},
            "total_s": round(sum(times.values()), 1),
            "rss_after_imports_mb": round(base["VmRSS"], 1),
            "peak_rss_gross_mb": round(peak, 1),
            "peak_rss_net_mb": round(peak - base["VmRSS"], 1),
            "peak_anon_mb": round(sampler.peak_anon, 1),
            "anon_after_imports_mb": round(base["RssAnon"], 1),
            "file_backed_rss_at_end_mb": round(end["RssFile"], 1),
            "gross_over_embeddings": round(peak / emb_mb, 2),
            "net_over_embeddings": round((peak - base["VmRSS"]) / emb_mb, 2),
            "anon_net_over_embeddings": round((sampler.peak_anon - base["RssAnon"]) / emb_mb, 2),
        }
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
