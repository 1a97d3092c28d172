"""Sentence-pairing speed: luxembedder's batched candidate scoring vs the paper's style.

The reference is written as the authors' ``6-match_sents.py`` does it: a Python loop over article pairs, a
per-pair cosine matrix (scikit-learn) over rows of pandas data frames, thresholding, and the two filters
per pair in Python. Both run on the same synthetic inputs and thresholds (cosine ≥ 0.70, length ratio 1.5,
overlap 0.8, then the two-stage one-to-one); the script asserts identical pairs and reports the speedup
and the similarity step's GFLOP/s against a large ``np.matmul``.

    .venv/bin/python benchmarks/mining_speed.py [--pairs 3000] [--seed 0] [--threads 1]

``--threads`` caps the BLAS/OpenMP pools of both implementations alike (and of the peak matmul) and is
passed to ``candidate_pairs`` (which always runs its small products on one BLAS thread and scores that many
chunks at once); on a small shared CPU one thread is the fastest setting for both. luxembedder's timings
are the best of ``--repeats`` runs (the reference runs once: it takes most of the time).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def synthetic(n_pairs: int, dim: int, seed: int):
    """Articles with 5–40 sentences; each pair shares a fraction of 'translated' sentences (noisy copies)."""
    rng = np.random.default_rng(seed)
    ns = rng.integers(5, 41, n_pairs)
    nt = rng.integers(5, 41, n_pairs)
    so = np.concatenate([[0], np.cumsum(ns)])
    to = np.concatenate([[0], np.cumsum(nt)])
    se = rng.standard_normal((so[-1], dim)).astype(np.float32)
    te = rng.standard_normal((to[-1], dim)).astype(np.float32)
    for a in range(n_pairs):  # setup only: plant translations
        k = min(ns[a], nt[a]) // 2
        te[to[a]:to[a] + k] = se[so[a]:so[a] + k] + 0.5 * rng.standard_normal((k, dim)).astype(np.float32)
    se /= np.linalg.norm(se, axis=1, keepdims=True)
    te /= np.linalg.norm(te, axis=1, keepdims=True)
    words = np.array("de la an et den d' op mat fir um vun the of and to in le les des un une ass".split())
    def texts(n):
        lens = rng.integers(4, 20, n)
        return [" ".join(rng.choice(words, L)) + f" {i}." for i, L in enumerate(lens)]
    return so, to, se, te, texts(so[-1]), texts(to[-1])


def paper_style(so, to, se, te, t1, t2, thr=0.70):
    import pandas as pd
    from sklearn.metrics.pairwise import cosine_similarity

    sents_a = pd.DataFrame({"article_id": np.repeat(np.arange(len(so) - 1), np.diff(so)), "text": t1})
    sents_b = pd.DataFrame({"article_id": np.repeat(np.arange(len(to) - 1), np.diff(to)), "text": t2})
    idx_a = {k: np.fromiter(v, dtype=int) for k, v in sents_a.groupby("article_id").indices.items()}
    idx_b = {k: np.fromiter(v, dtype=int) for k, v in sents_b.groupby("article_id").indices.items()}
    art_pairs = pd.DataFrame({"a": np.arange(len(so) - 1), "b": np.arange(len(to) - 1)})

    def length_ok(a, b):
        la, lb = len(a), len(b)
        return la > 0 and lb > 0 and la / lb < 1.5 and lb / la < 1.5

    def low_overlap(a, b):
        w1, w2 = set(a.lower().split()), set(b.lower().split())
        if not w1 or not w2:
            return True
        return len(w1 & w2) / min(len(w1), len(w2)) < 0.8

    pairs = []
    t_sim = 0.0
    for ida, idb in art_pairs.values:
        rows_a, rows_b = idx_a[ida], idx_b[idb]
        t0 = time.perf_counter()
        sim = cosine_similarity(se[rows_a], te[rows_b])
        t_sim += time.perf_counter() - t0
        for i, j in zip(*np.where(sim >= thr), strict=True):
            sa = sents_a.iloc[rows_a[i]]["text"]
            sb = sents_b.iloc[rows_b[j]]["text"]
            if not length_ok(sa, sb) or not low_overlap(sa, sb):
                continue
            pairs.append([ida, idb, sa, sb, float(sim[i, j])])
    df = pd.DataFrame(pairs, columns=["a", "b", "t1", "t2", "cos"])
    df["_o"] = np.arange(len(df))
    for col in ("t1", "t2"):
        rank = df["cos"].groupby(df[col]).rank(method="first", ascending=False)
        df = df[rank == 1]
    df = df.sort_values("_o")
    return set(zip(df.t1, df.t2, strict=True)), t_sim


def ours(so, to, se, te, t1, t2, thr=0.70, threads=1):
    from luxembedder.mining.filters import apply_in_order, length_ratio, near_copy, one_to_one
    from luxembedder.mining.scoring import candidate_pairs

    n = len(so) - 1
    t0 = time.perf_counter()
    c = candidate_pairs(se, so, te, to, np.arange(n), np.arange(n), floor=thr, knn=False, threads=threads)
    t_sim = time.perf_counter() - t0
    a1 = np.asarray(t1, dtype=object)[c.src]
    a2 = np.asarray(t2, dtype=object)[c.tgt]
    keep, _, _ = apply_in_order(len(c), [lambda a: length_ratio(a1[a], a2[a], 1.5),
                                         lambda a: near_copy(a1[a], a2[a], 0.8),
                                         lambda a: one_to_one(a1[a], a2[a], c.cos[a])])
    return set(zip(a1[keep], a2[keep], strict=True)), t_sim


def matmul_gflops(n: int = 2048, reps: int = 3) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ a
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for both implementations")
    ap.add_argument("--repeats", type=int, default=3, help="best of N runs of luxembedder's implementation")
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    so, to, se, te, t1, t2 = synthetic(args.pairs, args.dim, args.seed)
    t0 = time.perf_counter()
    ref, ref_sim = paper_style(so, to, se, te, t1, t2)
    t_ref = time.perf_counter() - t0
    ours(so, to, se, te, t1, t2, threads=args.threads)  # warm-up (imports)
    t_ours = our_sim = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        got, sim_s = ours(so, to, se, te, t1, t2, threads=args.threads)
        t_ours = min(t_ours, time.perf_counter() - t0)
        our_sim = min(our_sim, sim_s)
    assert got == ref, f"pair sets differ: {len(got ^ ref)} pairs"
    flops = 2.0 * args.dim * float(np.sum(np.diff(so) * np.diff(to)))
    peak = matmul_gflops()
    out = {"threads": args.threads, "article_pairs": args.pairs, "sentences": [int(so[-1]), int(to[-1])], "dim": args.dim,
           "pairs_found": len(got), "identical": True,
           "paper_style_s": round(t_ref, 3), "luxembedder_s": round(t_ours, 3), "speedup": round(t_ref / t_ours, 1),
           "paper_similarity_step_s": round(ref_sim, 3), "similarity_step_s": round(our_sim, 3),
           "similarity_gflops": round(flops / our_sim / 1e9, 1), "matmul_peak_gflops": round(peak, 1)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
