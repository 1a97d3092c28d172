"""Mining quality on the NTREX comparable-news benchmark: cosine (paper parity) vs margin scoring.

Builds the benchmark with :func:`luxembedder.datasets.ntrex.build_comparable_benchmark` (seeded), mines it
once with the given model (embeddings and candidate scores are computed once; each scoring setting only
re-runs the ``select`` stage), and prints P/R/F1 per language pair and article-matching accuracy for
cosine ≥ 0.70 and a sweep of margin thresholds. The margin threshold with the best mean F1 on
``--calibrate-seed`` is then checked, with the shipped default ``ScoringConfig.margin_threshold``, on a
benchmark built with ``--test-seed`` (a different draw of days, drops, shuffles and distractors over the same
documents).

    .venv/bin/python benchmarks/mining_quality.py [--model me5-small] [--out /tmp/mining_quality] [--json F]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def run_one(bench_seed: int, model: str, out: Path, settings, margins: list[float], mode: str) -> list[dict]:
    from luxembedder.datasets.ntrex import build_comparable_benchmark, read_ntrex
    from luxembedder.mining import MiningConfig, evaluate_run, mine

    bench = build_comparable_benchmark(read_ntrex(settings.require_data_dir()), out / f"bench-{bench_seed}",
                                       seed=bench_seed)
    run = out / f"run-{bench_seed}"
    rows = []
    settings_list = [("cosine", 0.70, MiningConfig.parity())]
    for thr in margins:
        cfg = MiningConfig.parity()
        cfg.scoring.method = "margin"
        cfg.scoring.margin_mode = mode
        cfg.scoring.margin_threshold = thr
        settings_list.append(("margin", thr, cfg))
    for method, thr, cfg in settings_list:
        cfg.embedding.model = model
        cfg.embedding.cache_dir = out / "cache"  # shared by both benchmark draws (same sentences)
        cfg.histograms = False
        cfg.filters.leakage_files = []
        res = mine([bench.articles_path], run, cfg, settings=settings, show_progress=False)
        ev = evaluate_run(run, bench.out_dir)
        row = {"seed": bench_seed, "scoring": method, "threshold": thr, "stages_run": ",".join(res.stages_run)}
        for pair, v in ev["pairs"].items():
            row[f"{pair} P"] = round(v["precision"], 3)
            row[f"{pair} R"] = round(v["recall"], 3)
            row[f"{pair} F1"] = round(v["f1"], 3)
            row[f"{pair} n"] = v["mined"]
        for pair, v in ev["article_matching"].items():
            row[f"{pair} art.acc"] = round(v["sentence_stage_threshold"]["accuracy"], 3)
        row["mean F1"] = round(sum(v["f1"] for v in ev["pairs"].values()) / len(ev["pairs"]), 4)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    from luxembedder.settings import get_settings

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="me5-small")
    ap.add_argument("--out", type=Path, default=Path("/tmp/mining_quality"))
    ap.add_argument("--calibrate-seed", type=int, default=0)
    ap.add_argument("--test-seed", type=int, default=1)
    ap.add_argument("--mode", default="max")
    ap.add_argument("--margins", default="0.96,0.98,1.00,1.02,1.04,1.06,1.08,1.10")
    ap.add_argument("--json", type=Path, default=None, help="also write the record (with versions) here")
    args = ap.parse_args()
    settings = get_settings()
    margins = [float(x) for x in args.margins.split(",")]
    cal = run_one(args.calibrate_seed, args.model, args.out, settings, margins, args.mode)
    best = max((r for r in cal if r["scoring"] == "margin"), key=lambda r: r["mean F1"])
    print(f"calibrated margin threshold (seed {args.calibrate_seed}): {best['threshold']} "
          f"(mean F1 {best['mean F1']}; cosine 0.70: {cal[0]['mean F1']})")
    from luxembedder.mining.config import ScoringConfig

    default = ScoringConfig().margin_threshold  # the shipped default is checked on the second draw too
    test = run_one(args.test_seed, args.model, args.out, settings, sorted({best["threshold"], default}), args.mode)
    record = {"benchmark": "mining_quality", "model": args.model, "mode": args.mode,
              "calibrate_seed": args.calibrate_seed, "test_seed": args.test_seed,
              "calibrated_threshold": best["threshold"], "default_threshold": default, "calibration": cal,
              "test": test}
    print(json.dumps(record, indent=1))
    if args.json:
        from luxembedder.utils.io import atomic_write_json
        from luxembedder.utils.provenance import now_iso, versions

        atomic_write_json(args.json, {**record, "created": now_iso(), "versions": versions()})


if __name__ == "__main__":
    main()
