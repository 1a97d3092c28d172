"""Sentence-pairing speed: luxembedder's batched candidate scoring vs the paper's style, and the similarity
step against the one-thread matmul rate.

The reference is written as the authors' ``6-match_sents.py`` does it: a Python loop over article pairs, a
per-pair cosine matrix (scikit-learn) over rows of pandas data frames, thresholding, and the two filters
per pair in Python. Both run on the same synthetic inputs and thresholds (cosine ≥ 0.70, length ratio 1.5,
overlap 0.8, then the two-stage one-to-one); the script asserts identical pairs and reports the speedup
and the similarity step's GFLOP/s against a large ``np.matmul``.

    .venv/bin/python benchmarks/mining_speed.py [--pairs 3000] [--seed 0] [--threads 1] [--json F.json]
    nice -n 19 .venv/bin/python benchmarks/mining_speed.py --no-reference --rounds 10 --stacked --json F.json
    .venv/bin/python benchmarks/mining_speed.py --pairs 300 --no-reference --rounds 1 --ntrex --json F.json

``--threads`` caps the BLAS/OpenMP pools of both implementations alike (and of the peak matmul) and is
passed to ``candidate_pairs`` (which always runs its small products on one BLAS thread and scores that many
chunks at once); on a small shared CPU one thread is the fastest setting for both. luxembedder's timings
are the best of ``--repeats`` runs (the reference runs once: it takes most of the time).

The similarity section times, in ``--rounds`` interleaved rounds, the similarity step (``candidate_pairs``
with the cosine floor and no kNN, as the pairing above), the same step on as many pairs drawn from 16
articles per side (``hot``: the embeddings stay in cache), and a 2048² ``np.matmul``; each in wall
time and in CPU time of the process (the stable measure on a shared machine), best of the rounds, with the
1-minute load average of every round. ``--stacked`` adds the bit-identical stacked formulation
(:func:`stacked_fill`) next to the per-pair fill it replaces. ``bits`` counts the similarities whose bits
change when a pair's block is cut from one large product instead of its own GEMM. ``--ntrex`` mines the NTREX
comparable benchmark with both fills and compares the pairs files byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
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


# --- the stacked formulation (measured, not used by the package) ----------------------------------------
# OpenBLAS (x86-64, AVX-512 "SkylakeX" kernels) computes C = A·Bᵀ for M·N ≤ 1200, M·N·K ≤ 1e6, K ≥ 32 with a
# small-matrix kernel that sums 16 lanes of each dot product and reduces them with one of two adder trees
# (entries in the last M % 4 rows *and* the last N % 4 columns use another one); larger products go through
# the normal packed kernel, 1-row operands through numpy's gemv/dot. So a pair's cosines depend on its
# block's shape. Padding each block to (n | 3, m | 3) keeps every real entry's kernel and tree, and blocks of
# equal padded shape can be multiplied by one stacked np.matmul (one BLAS call per item, from C) after
# gathering their rows: bit-identical to one GEMM per pair, but the gather copies every row once more.
_SMALL_MN, _SMALL_MNK, _SMALL_K = 1200, 1e6, 32


def _padded_shape(n: np.ndarray, m: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    def small(a, b):
        return (a * b <= _SMALL_MN) & (a * b * k <= _SMALL_MNK) & (k >= _SMALL_K)

    s, t = np.where(n % 4 == 0, n, n | 3), np.where(m % 4 == 0, m, m | 3)
    keep = small(n, m) != small(s, t)  # padding would switch kernel: keep the exact shape
    return np.where(keep, n, s), np.where(keep, m, t)


def _padded_rows(start: np.ndarray, n: np.ndarray, n_pad: np.ndarray) -> np.ndarray:
    local = np.arange(int(n_pad.sum())) - np.repeat(np.cumsum(n_pad) - n_pad, n_pad)
    return np.repeat(start, n_pad) + np.minimum(local, np.repeat(n - 1, n_pad))


def stacked_fill(buf, se, so, te, to, a_s, a_t, gather_floats: int = 1 << 18) -> None:
    """Row-major similarity blocks of all article pairs into ``buf`` (the layout of ``candidate_pairs``),
    from stacked products of blocks of equal padded shape (1-row and syrk-like pairs: one GEMM each)."""
    k = se.shape[1]
    s0, t0 = so[a_s], to[a_t]
    ns, nt = so[a_s + 1] - s0, to[a_t + 1] - t0
    b = np.concatenate([[0], np.cumsum(ns * nt)])[:-1]
    own = (ns == nt) & (se.__array_interface__["data"][0] + s0 * se.strides[0]
                        == te.__array_interface__["data"][0] + t0 * te.strides[0])
    single = (ns > 0) & (nt > 0) & ((ns == 1) | (nt == 1) | own)
    for q in np.flatnonzero(single).tolist():
        np.matmul(se[s0[q]:s0[q] + ns[q]], te[t0[q]:t0[q] + nt[q]].T, out=buf[b[q]:b[q] + ns[q] * nt[q]].reshape(ns[q], nt[q]))
    idx = np.flatnonzero((ns > 1) & (nt > 1) & ~own)
    sp, tp = _padded_shape(ns[idx], nt[idx], k)
    order = np.lexsort((tp, sp))
    idx, sp, tp = idx[order], sp[order], tp[order]
    rs, rt = _padded_rows(s0[idx], ns[idx], sp), _padded_rows(t0[idx], nt[idx], tp)
    rs_at, rt_at = np.concatenate([[0], np.cumsum(sp)]), np.concatenate([[0], np.cumsum(tp)])
    new = np.flatnonzero(np.r_[True, (sp[1:] != sp[:-1]) | (tp[1:] != tp[:-1]), True])
    xb, yb = np.empty(gather_floats, np.float32), np.empty(gather_floats, np.float32)
    for g0, g1 in zip(new[:-1].tolist(), new[1:].tolist(), strict=True):
        S, T = int(sp[g0]), int(tp[g0])
        step = max(1, gather_floats // (max(S, T) * k))
        for c0 in range(g0, g1, step):
            c1 = min(c0 + step, g1)
            g, q = c1 - c0, idx[c0:c1]
            x = np.take(se, rs[rs_at[c0]:rs_at[c1]], axis=0, out=xb[:g * S * k].reshape(g * S, k), mode="clip")
            y = np.take(te, rt[rt_at[c0]:rt_at[c1]], axis=0, out=yb[:g * T * k].reshape(g * T, k), mode="clip")
            o = np.matmul(x.reshape(g, S, k), y.reshape(g, T, k).transpose(0, 2, 1))
            nq, mq = ns[q], nt[q]
            vals = o[(np.arange(S)[None, :, None] < nq[:, None, None]) & (np.arange(T)[None, None, :] < mq[:, None, None])]
            size = nq * mq
            buf[np.repeat(b[q] - (np.cumsum(size) - size), size) + np.arange(int(size.sum()))] = vals


def bits_vs_large_gemm(so, to, se, te, n_pairs: int = 300) -> dict:
    """How many cosines change bits when each pair's block is cut from one large product of the rows of
    ``n_pairs`` consecutive pairs (pair q = source article q × target article q) instead of its own GEMM."""
    from luxembedder.mining.scoring import candidate_pairs

    n = min(n_pairs, len(so) - 1)
    c = candidate_pairs(se, so, te, to, np.arange(n), np.arange(n), knn=False, threads=1)
    big = se[so[0]:so[n]] @ te[to[0]:to[n]].T
    exact = se[so[0]:so[n]].astype(np.float64) @ te[to[0]:to[n]].T.astype(np.float64)
    cut = big[c.src - so[0], c.tgt - to[0]]
    ref = exact[c.src - so[0], c.tgt - to[0]]
    return {"pairs": n, "similarities": len(c), "differ": int((cut != c.cos).sum()),
            "max_abs_diff": float(np.abs(cut.astype(np.float64) - c.cos).max()),
            "max_abs_err_per_pair_gemm": float(np.abs(c.cos - ref).max()),
            "max_abs_err_large_gemm": float(np.abs(cut - ref).max())}


def ntrex_check(model: str | None, max_documents: int | None) -> dict:
    """Mine the NTREX comparable benchmark (``make demo``'s mining config: margin over the window pool; and a
    cosine config with a candidate floor) twice, with the per-pair fill and with :func:`stacked_fill` in its
    place, and compare the pairs files and the scored candidates byte for byte. ``model``: a model name or
    folder (default: a tiny random 32-d model, built here)."""
    import dataclasses
    import filecmp
    import shutil
    import tempfile
    from pathlib import Path

    import yaml

    from luxembedder.datasets.ntrex import build_comparable_benchmark, read_ntrex
    from luxembedder.mining import scoring
    from luxembedder.mining.config import MiningConfig
    from luxembedder.mining.pipeline import mine
    from luxembedder.settings import get_settings

    calls = {"stacked": 0}

    def stacked(buf, se, so, te, to, a_s, a_t, pos, p0, p1):
        calls["stacked"] += 1
        stacked_fill(buf, se, so, te, to, a_s[p0:p1], a_t[p0:p1])

    settings = get_settings()
    tmp = Path(tempfile.mkdtemp(prefix="ntrex-check-"))
    corpus = read_ntrex(settings.require_data_dir(), langs=("lb", "en", "fr"))
    if max_documents:
        docs = set(list(dict.fromkeys(corpus.doc_ids))[:max_documents])
        keep = [i for i, d in enumerate(corpus.doc_ids) if d in docs]
        corpus = dataclasses.replace(corpus, sentences={k: [v[i] for i in keep] for k, v in corpus.sentences.items()},
                                     doc_ids=[corpus.doc_ids[i] for i in keep])
    bench = build_comparable_benchmark(corpus, tmp / "bench", seed=0)
    label = model or "tiny random model (32-d)"
    if model is None:
        from luxembedder.models.tiny import make_tiny_model

        make_tiny_model(tmp / "tiny", seed=0)
        model = str(tmp / "tiny")
    demo = yaml.safe_load((Path(__file__).resolve().parents[1] / "configs" / "demo.yaml").read_text())["mining"]
    demo["embedding"].update(model=model, cache_dir=str(tmp / "cache"))
    cosine = {**demo, "scoring": {"method": "cosine", "cosine_threshold": 0.5, "candidate_floor": 0.3}}
    out: dict = {"articles": sum(1 for _ in open(bench.articles_path)), "model": label}
    per_pair = scoring._fill_sims
    for name, cfg in (("margin-window", demo), ("cosine-floor", cosine)):
        runs = {}
        for fill_name, fill in (("per_pair", per_pair), ("stacked", stacked)):
            scoring._fill_sims = fill
            try:
                runs[fill_name] = tmp / f"{name}-{fill_name}"
                mine([bench.articles_path], runs[fill_name], MiningConfig.model_validate(cfg), settings=settings,
                     show_progress=False)
            finally:
                scoring._fill_sims = per_pair
        files = sorted(str(f.relative_to(runs["per_pair"])) for f in runs["per_pair"].rglob("*")
                       if f.suffix in (".jsonl", ".parquet") and ("pairs" in f.parts or "score" in f.parts))
        same = [f for f in files if filecmp.cmp(runs["per_pair"] / f, runs["stacked"] / f, shallow=False)]
        import pyarrow.parquet as pq

        rows = {f: (sum(1 for _ in open(runs["per_pair"] / f)) if f.endswith(".jsonl")
                    else pq.read_metadata(runs["per_pair"] / f).num_rows) for f in files}
        out[name] = {"files": files, "identical": same, "all_identical": same == files, "rows": rows,
                     "stacked_fill_calls": calls["stacked"]}
        calls["stacked"] = 0
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def similarity_rounds(so, to, se, te, rounds: int, threads: int, stacked: bool, peak_n: int = 2048) -> dict:
    """Interleaved rounds: the similarity step (cold and hot), optionally the stacked vs per-pair fill, and
    a peak matmul; best wall and CPU time of each, GFLOP/s and the ratios to the matmul."""
    from luxembedder.mining.scoring import _fill_sims, candidate_pairs

    n = len(so) - 1
    ar = np.arange(n)
    flops = 2.0 * se.shape[1] * float(np.sum(np.diff(so) * np.diff(to)))
    rng = np.random.default_rng(1)
    hs, ht = rng.integers(0, 16, n), rng.integers(0, 16, n)  # 16 articles per side (~1 MB each): in cache
    hot_flops = 2.0 * se.shape[1] * float(np.sum((so[hs + 1] - so[hs]) * (to[ht + 1] - to[ht])))
    pos = np.concatenate([[0], np.cumsum(np.diff(so) * np.diff(to))])
    buf_a, buf_b = np.empty(int(pos[-1]), np.float32), np.empty(int(pos[-1]), np.float32)
    a = np.random.default_rng(0).standard_normal((peak_n, peak_n)).astype(np.float32)
    work = {"similarity": (lambda: candidate_pairs(se, so, te, to, ar, ar, floor=0.70, knn=False, threads=threads),
                           flops),
            "similarity_hot": (lambda: candidate_pairs(se, so, te, to, hs, ht, floor=0.70, knn=False, threads=threads),
                               hot_flops),
            "matmul": (lambda: a @ a, 2.0 * peak_n**3)}
    if stacked:
        work["fill_per_pair"] = (lambda: _fill_sims(buf_a, se, so, te, to, ar, ar, pos, 0, n), flops)
        work["fill_stacked"] = (lambda: stacked_fill(buf_b, se, so, te, to, ar, ar), flops)
    for f, _ in work.values():
        f()  # warm-up
    timings = []
    for r in range(rounds):
        for name, (f, _) in work.items():
            load = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), time.process_time()
            f()
            timings.append({"round": r, "what": name, "seconds": time.perf_counter() - t0,
                            "cpu_seconds": time.process_time() - c0, "loadavg_1m": round(load, 2)})
    res: dict = {}
    for name, (_, fl) in work.items():
        ts = [t for t in timings if t["what"] == name]
        wall, cpu = min(t["seconds"] for t in ts), min(t["cpu_seconds"] for t in ts)
        res[name] = {"gflop": round(fl / 1e9, 3), "best_s": round(wall, 4), "best_cpu_s": round(cpu, 4),
                     "gflops": round(fl / wall / 1e9, 1), "gflops_cpu": round(fl / cpu / 1e9, 1)}
    peak = res["matmul"]
    for r in res.values():
        r["vs_matmul"] = round(r["gflops"] / peak["gflops"], 3)
        r["vs_matmul_cpu"] = round(r["gflops_cpu"] / peak["gflops_cpu"], 3)
    if stacked:
        res["fill_stacked"]["bit_identical"] = bool(np.array_equal(buf_a.view(np.uint32), buf_b.view(np.uint32)))
    loads = [t["loadavg_1m"] for t in timings]
    return {"rounds": rounds, "peak_matmul_n": peak_n, "results": res, "loadavg_1m_range": [min(loads), max(loads)],
            "timings": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in t.items()} for t in timings]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3000)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for both implementations")
    ap.add_argument("--repeats", type=int, default=3, help="best of N runs of luxembedder's implementation")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the similarity-vs-matmul timing")
    ap.add_argument("--no-reference", action="store_true", help="skip the paper-style reference (its speedup)")
    ap.add_argument("--stacked", action="store_true", help="also time the bit-identical stacked formulation")
    ap.add_argument("--ntrex", action="store_true", help="mine the NTREX comparable benchmark with the per-pair and "
                    "the stacked fill and compare the pairs files (needs the shared data)")
    ap.add_argument("--ntrex-model", default=None, help="model for --ntrex (default: a tiny random model)")
    ap.add_argument("--ntrex-documents", type=int, default=None, help="first N NTREX documents (default: all)")
    ap.add_argument("--json", default=None, help="write the result (with load averages and versions) here")
    args = ap.parse_args()
    from threadpoolctl import threadpool_info, threadpool_limits

    from luxembedder.utils.io import atomic_write_json
    from luxembedder.utils.provenance import now_iso, versions

    threadpool_limits(args.threads)
    load_start = os.getloadavg()
    so, to, se, te, t1, t2 = synthetic(args.pairs, args.dim, args.seed)
    out = {"benchmark": "mining_speed", "created": now_iso(), "threads": args.threads,
           "article_pairs": args.pairs, "sentences": [int(so[-1]), int(to[-1])], "dim": args.dim}
    if not args.no_reference:
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
        out.update({"pairs_found": len(got), "identical": True,
                    "paper_style_s": round(t_ref, 3), "luxembedder_s": round(t_ours, 3),
                    "speedup": round(t_ref / t_ours, 1), "paper_similarity_step_s": round(ref_sim, 3),
                    "similarity_step_s": round(our_sim, 3), "similarity_gflops": round(flops / our_sim / 1e9, 1),
                    "matmul_peak_gflops": round(peak, 1)})
    out["similarity_vs_matmul"] = similarity_rounds(so, to, se, te, args.rounds, args.threads, args.stacked)
    out["bits"] = bits_vs_large_gemm(so, to, se, te)
    if args.ntrex:
        out["ntrex"] = ntrex_check(args.ntrex_model, args.ntrex_documents)
    out["loadavg_start_end"] = [round(load_start[0], 2), round(os.getloadavg()[0], 2)]
    out["blas"] = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                   for i in threadpool_info()]
    out["versions"] = versions()
    if args.json:
        atomic_write_json(args.json, out)
    summary = {k: v for k, v in out.items() if k not in ("similarity_vs_matmul", "versions")}
    summary["similarity_vs_matmul"] = {k: v for k, v in out["similarity_vs_matmul"].items() if k != "timings"}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
