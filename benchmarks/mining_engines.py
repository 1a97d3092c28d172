"""End-to-end ``mine`` with the local engine vs the Ray engine on a scaled NTREX comparable benchmark.

The NTREX comparable benchmark (:func:`luxembedder.datasets.ntrex.build_comparable_benchmark`) is built
``--copies`` times with different seeds, each copy on its own 14-day period (ids prefixed ``c<i>-``), and
concatenated into one article file (``--langs lb,en``: 218 articles a copy; 10 copies > 2,000 articles).
The same config is mined twice from scratch (own run folder and embedding cache each): ``engine: local``,
then ``engine: ray`` on a local Ray with ``--ray-cpus`` CPUs (``--actors`` embedding actors, one scoring task
per 14 days). Reports wall time per stage, the peak RSS of every process involved (the driver, and each Ray
worker / actor, sampled every 0.2 s), the load average, and asserts that the pairs files are byte-identical.
Every encoder runs ``OMP_NUM_THREADS`` threads (default 1, as each actor): byte-identity needs the local
encoder and the actors to use the same thread count (docs/performance.md).

    nice -n 19 python benchmarks/mining_engines.py [--copies 10] [--model me5-small] [--backend onnx-int8]
        [--out /tmp/mining_engines] [--json F]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np


class PeakSampler:
    """Peak RSS per process of this process tree (the driver and the local Ray it starts), sampled in a thread."""

    def __init__(self, period: float = 0.2) -> None:
        import psutil

        self.psutil, self.period = psutil, period
        self.peaks: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = self.psutil.Process(os.getpid())
        while not self._stop.is_set():
            try:  # this process and its descendants only (a local Ray started here): never another job's Ray
                procs = [me, *me.children(recursive=True)]
            except self.psutil.NoSuchProcess:
                procs = [me]
            for p in procs:
                try:
                    cmd = " ".join(p.cmdline() or [])
                    name = "driver" if p.pid == me.pid else (cmd.split()[0] if cmd.startswith("ray::") else
                                                             "ray worker" if "default_worker" in cmd else "ray")
                    rss = p.memory_info().rss / 2**20
                    old = self.peaks.get(p.pid, (name, 0.0))
                    label = name if name not in ("ray worker", "ray") else old[0]
                    self.peaks[p.pid] = (label, max(old[1], rss))
                except (self.psutil.NoSuchProcess, self.psutil.AccessDenied, TypeError):
                    continue
            self._stop.wait(self.period)

    def __enter__(self) -> PeakSampler:
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()

    def summary(self) -> dict:
        driver = max((mb for n, mb in self.peaks.values() if n == "driver"), default=0.0)
        workers = sorted(((n, round(mb)) for n, mb in self.peaks.values() if n != "driver"), key=lambda x: -x[1])
        return {"driver_peak_mb": round(driver), "workers_peak_mb": workers[:8],
                "max_worker_peak_mb": workers[0][1] if workers else 0}


def build_articles(out: Path, copies: int, langs: list[str], data_dir: Path) -> tuple[Path, int]:
    from luxembedder.datasets.ntrex import build_comparable_benchmark, read_ntrex

    corpus = read_ntrex(data_dir)
    rows = []
    for i in range(copies):
        bench = build_comparable_benchmark(corpus, out / f"copy-{i}", seed=i, langs=langs,
                                           start_date=_dt.date(2019, 11, 4) + _dt.timedelta(days=14 * i))
        for line in bench.articles_path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            r["id"] = f"c{i}-{r['id']}"
            rows.append(r)
    path = out / "articles.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path, len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--langs", default="lb,en")
    ap.add_argument("--model", default="me5-small")
    ap.add_argument("--backend", default="onnx-int8")
    ap.add_argument("--ray-cpus", type=int, default=2)
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--out", default="/tmp/mining_engines")
    ap.add_argument("--local-threads", type=int, default=None,
                    help="torch threads of the local engine's encoder (default: OMP_NUM_THREADS, 1); another count "
                         "than the actors' (1) shows the bits a thread count changes: the pairs may then differ")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    from luxembedder.mining import MiningConfig, mine
    from luxembedder.settings import get_settings
    from luxembedder.utils.io import atomic_write_json
    from luxembedder.utils.provenance import now_iso, versions

    settings = get_settings()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    langs = args.langs.split(",")
    articles, n_articles = build_articles(out, args.copies, langs, settings.require_data_dir())
    cfg = MiningConfig.improved()
    cfg.pairs = [f"{langs[0]}-{t}" for t in langs[1:]]
    cfg.embedding.model = args.model
    cfg.embedding.backend = args.backend
    cfg.embedding.article_representation = "mean_sentences"  # sentence embeddings only (stated in the docs)
    cfg.filters.leakage_files = []
    cfg.histograms = False
    results = {}
    threads0 = torch.get_num_threads()
    for engine in ("local", "ray"):
        torch.set_num_threads(args.local_threads if engine == "local" and args.local_threads else threads0)
        c = cfg.model_copy(deep=True)
        c.execution.engine = engine
        c.execution.num_cpus = args.ray_cpus
        c.execution.embed_actors = args.actors
        c.execution.shard_days = 14
        load0 = os.getloadavg()[0]
        with PeakSampler() as sampler:
            t0 = time.perf_counter()
            res = mine([articles], out / engine, c, settings=settings, show_progress=False)
            wall = time.perf_counter() - t0
        results[engine] = {"wall_s": round(wall, 1), "stage_seconds": res.report["stage_seconds"],
                           "final_pairs": res.report["final_pairs"], **sampler.summary(),
                           "loadavg_1m": [round(load0, 2), round(os.getloadavg()[0], 2)]}
        print(json.dumps({engine: results[engine]}), flush=True)
    differing = {}
    for p in cfg.pairs:
        a = (out / "local" / "pairs" / f"{p}.jsonl").read_text(encoding="utf-8").splitlines()
        b = (out / "ray" / "pairs" / f"{p}.jsonl").read_text(encoding="utf-8").splitlines()
        differing[p] = {"local_rows": len(a), "ray_rows": len(b),
                        "rows_differing": sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))}
    same = all(d["rows_differing"] == 0 for d in differing.values())
    vec_diff = {}
    for f in sorted((out / "local" / "stages" / "embed").glob("*.sentences.npy")):
        va, vb = np.load(f), np.load(out / "ray" / "stages" / "embed" / f.name)
        dev = np.abs(va - vb).max(axis=1) if va.shape == vb.shape else np.full(len(va), np.inf)
        vec_diff[f.name] = {"rows": len(va), "rows_differing": int((dev > 0).sum()), "max_abs_diff": float(dev.max())}
    rep = json.loads((out / "local" / "report.json").read_text())
    summary = {"benchmark": "mining_engines", "articles": n_articles, "copies": args.copies, "langs": langs,
               "model": args.model, "backend": args.backend, "ray_cpus": args.ray_cpus, "actors": args.actors,
               "sentences": {k: v["kept"] for k, v in rep["sentences"].items()}, "pairs_identical": same,
               "pairs_differing": differing, "sentence_vectors_differing": vec_diff,
               "local_threads": args.local_threads or threads0, "actor_threads": 1, "created": now_iso(),
               "versions": versions(),
               "results": results, "speedup_ray_vs_local": round(results["local"]["wall_s"] / results["ray"]["wall_s"], 2)}
    if args.json:
        atomic_write_json(args.json, summary)
    print(json.dumps(summary, indent=1))
    if not same and not args.local_threads:
        raise SystemExit("pairs differ between the engines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
