"""Scale run through Ray: 1M synthetic sentences, per-worker peak memory against each shard's embeddings.

Scoring (``--sentences`` in all, half lb, half en; 384-d synthetic float32 embeddings, 10 sentences per
article, ~70 articles per day; target articles are noisy copies published the same or the next day, as in
``benchmarks/mining_scale.py``): the Ray engine's scoring (:func:`~luxembedder.mining.ray_engine.
score_pair_sharded`: candidates, then window-margin kNN per date shard) runs on a local Ray with ``--cpus``
CPUs; each task resets its process's peak-RSS counter (``/proc/self/clear_refs``), and reports its peak
(``VmHWM``) gross and net of the RSS it started with, next to the bytes of the embedding rows it reads
(its shard plus the ±2N-day context). The worker's baseline includes the libraries the tasks use: FAISS
(the kNN heaps) is imported before a kNN task's counter is reset, and the RSS its first import adds in a
worker is reported apart (``library_load_mb``; ``max_with_library_load`` counts it in). ``--check``: the result is
also compared with the one-process computation.

Embedding (``--embed-sentences``, default 0 = skipped): synthetic texts through ``embed --engine ray`` with
the tiny model (32-d), per-actor throughput.

    nice -n 19 python benchmarks/ray_scale.py [--sentences 1000000] [--shard-days 30] [--cpus 2] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from luxembedder.utils.provenance import memory_status_mb


def measured(fn, se_path: str, te_path: str, args: tuple, rows: int, dim: int):
    """Run one shard task and report its memory (runs inside a Ray worker)."""
    from luxembedder.mining.ray_engine import _with_embeddings

    before = memory_status_mb()
    if fn.__name__ == "shard_window_knn":
        import faiss  # noqa: F401  the kNN heaps' library: part of the worker's baseline, its first load apart
    library_mb = memory_status_mb()["VmRSS"] - before["VmRSS"]
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    except OSError:
        pass
    start = memory_status_mb()
    t0 = time.perf_counter()
    res = _with_embeddings(fn, se_path, te_path, args)
    end = memory_status_mb()
    return res, {"task": fn.__name__, "seconds": round(time.perf_counter() - t0, 2), "rows": rows,
                 "embeddings_mb": round(rows * dim * 4 / 2**20, 1), "peak_mb": round(end["VmHWM"], 1),
                 "start_mb": round(start["VmRSS"], 1), "net_peak_mb": round(end["VmHWM"] - start["VmRSS"], 1),
                 "pid": os.getpid(), "library_load_mb": round(library_mb, 1)}


def net_over_embeddings(stats: list[dict]) -> dict:
    """Worst and mean net peak over embeddings per kind of task; ``max_with_library_load``: the worst
    when a worker's one-time FAISS load is counted in its first task."""
    out = {}
    for task in sorted({s["task"] for s in stats}):
        ss = [s for s in stats if s["task"] == task]
        r = [s["net_peak_mb"] / max(s["embeddings_mb"], 1e-9) for s in ss]
        lib = [(s["net_peak_mb"] + s["library_load_mb"]) / max(s["embeddings_mb"], 1e-9) for s in ss]
        out[task] = {"tasks": len(ss), "max": round(max(r), 2), "mean": round(float(np.mean(r)), 2),
                     "max_with_library_load": round(max(lib), 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--shard-days", type=int, default=30)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="also compute in one process and compare")
    ap.add_argument("--embed-sentences", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import ray
    from mining_scale import build  # the sibling benchmark's generator (benchmarks/ is on sys.path)

    from luxembedder.mining import MiningConfig
    from luxembedder.mining.pipeline import LangView
    from luxembedder.mining.ray_engine import Shard, context_rows, init_ray, score_pair_sharded

    tmp = Path(tempfile.mkdtemp(prefix="ray_scale_"))
    n_art = args.sentences // 2 // 10
    days = max(1, n_art // 70)
    t0 = time.perf_counter()
    src_days, tgt_days, offsets, paths = build(tmp, n_art, 10, args.dim, 0, days)
    n_sent = int(offsets[-1])
    build_s = time.perf_counter() - t0

    def view(d: np.ndarray) -> LangView:
        return LangView(np.arange(n_art), np.arange(n_art).astype(str), d, np.ones(n_art, bool),
                        np.arange(n_sent), offsets, np.repeat(d, np.diff(offsets)))

    vs, vt = view(src_days), view(tgt_days)
    cfg = MiningConfig.improved()
    cfg.execution.shard_days = args.shard_days
    window = cfg.matching.window_days
    init_ray(num_cpus=args.cpus)
    remote = ray.remote(num_cpus=1, max_retries=3)(measured)
    stats: list[dict] = []

    def map_fn(fn, arglist):
        refs = []
        for a in arglist:
            sh: Shard = a[8] if fn.__name__ == "shard_window_knn" else a[6]
            if fn.__name__ == "shard_window_knn":
                s0, s1, t0_, t1 = context_rows(a[1], a[3], window, a[7], sh)
                rows = (s1 - s0) + (t1 - t0_)
            else:
                rows = int(offsets[sh.p1] - offsets[sh.p0]) * 2  # src article p == tgt article p here
            refs.append(remote.remote(fn, str(paths["src_sent"]), str(paths["tgt_sent"]),
                                      (None, a[1], None, *a[3:]), rows, args.dim))
        out = ray.get(refs)
        stats.extend(s for _, s in out)
        return [r for r, _ in out]

    se = np.load(paths["src_sent"], mmap_mode="r")
    te = np.load(paths["tgt_sent"], mmap_mode="r")
    pairs = np.arange(n_art)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    c = score_pair_sharded(se, vs, te, vt, pairs, pairs, cfg, map_fn=map_fn)
    ray_s = time.perf_counter() - t0
    load1 = os.getloadavg()[0]
    ray.shutdown()
    identical = None
    if args.check:
        ref = score_pair_sharded(se, vs, te, vt, pairs, pairs, cfg)  # the same shards in this process
        identical = all(np.array_equal(getattr(c, f), getattr(ref, f), equal_nan=True)
                        for f in ("pair", "src", "tgt", "cos", "knn_src", "knn_tgt"))
    worst = max(stats, key=lambda s: s["net_peak_mb"] / max(s["embeddings_mb"], 1e-9))
    knn = [s for s in stats if s["task"] == "shard_window_knn"]
    result = {"benchmark": "ray_scale", "sentences": 2 * n_sent, "articles_per_language": n_art, "days": days,
              "dim": args.dim, "embeddings_mb": round(2 * n_sent * args.dim * 4 / 2**20), "cpus": args.cpus,
              "shard_days": args.shard_days, "tasks": len(stats), "build_s": round(build_s, 1),
              "ray_scoring_s": round(ray_s, 1), "candidates": len(c), "loadavg_1m": [round(load0, 2), round(load1, 2)],
              "max_task_peak_mb": max(s["peak_mb"] for s in stats),
              "max_net_over_embeddings": round(worst["net_peak_mb"] / worst["embeddings_mb"], 2),
              "worst_task": worst, "knn_task_mean_s": round(float(np.mean([s["seconds"] for s in knn])), 2) if knn else None,
              "knn_task_mean_rows": int(np.mean([s["rows"] for s in knn])) if knn else None,
              "net_over_embeddings": net_over_embeddings(stats),
              "identical_to_one_process": identical}
    if args.embed_sentences:
        result["embed"] = embed_part(args.embed_sentences, tmp, args.cpus)
    if args.json:
        Path(args.json).write_text(json.dumps({**result, "task_stats": stats}, indent=1))
    print(json.dumps(result, indent=1))
    return 0


def embed_part(n: int, tmp: Path, cpus: int) -> dict:
    from luxembedder.embedding import embed_file
    from luxembedder.mining.ray_engine import init_ray
    from luxembedder.models.tiny import make_tiny_model

    rng = np.random.default_rng(0)
    words = np.array("de la an et den d' op mat fir um vun the of and to in le les des un une ass".split())
    lens = rng.integers(4, 20, n)
    (tmp / "texts.txt").write_text("".join(" ".join(rng.choice(words, k)) + f" {i}.\n" for i, k in enumerate(lens)),
                                   encoding="utf-8")
    make_tiny_model(tmp / "tiny")
    init_ray(num_cpus=cpus)
    t0 = time.perf_counter()
    out = embed_file(tmp / "tiny", tmp / "texts.txt", tmp / "emb", engine="ray", shard_rows=50_000, batch_size=128)
    secs = time.perf_counter() - t0
    import ray

    ray.shutdown()
    return {"sentences": n, "seconds": round(secs, 1), "sentences_per_s": round(n / secs), "parts": len(list(out.glob("part-*.npy")))}


if __name__ == "__main__":
    raise SystemExit(main())
