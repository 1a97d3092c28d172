"""Training speed and memory of me5-small on NTREX-128 lb-en + lb-fr (1997 + 1997 human translation pairs).

Speed mode (default) runs each recipe in its own process (peak RSS is per process) for a fixed number of
optimizer steps and reports pairs/s and peak RSS; ``--full-epoch`` trains one recipe for one epoch and saves
the model for evaluation.

    python benchmarks/train_speed.py --steps 12                      # speed table (JSON + Markdown)
    python benchmarks/train_speed.py --table docs/results/train_speed.json # the table of a recorded run
    python benchmarks/train_speed.py --full-epoch --recipe grouped-l4 --out runs/bench/me5-ntrex-fast
    python benchmarks/train_speed.py --full-epoch --recipe grouped-l4 --hard-negatives --out runs/bench/me5-ntrex-fast-hn
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def recipes() -> dict[str, dict[str, Any]]:
    """The recipes compared: the plain one, then the CPU-oriented options one at a time and combined.

    ``fast-lN`` freezes the embedding block and the lowest N of the 12 transformer layers; ``grouped*`` add
    length-grouped batches (``length_grouping``); ``-lrX`` replaces the learning rate of 2e-5.
    """
    from luxembedder.training.trainer import bf16_supported

    out = {
        "plain": {},
        "frozen": {"freeze_embeddings": True},
        "len128": {"max_seq_length": 128},
        "fast": {"freeze_embeddings": True, "max_seq_length": 128},
        "fast-l4": {"freeze_layers": 4, "max_seq_length": 128},
        "fast-l6": {"freeze_layers": 6, "max_seq_length": 128},
        "grouped": {"freeze_embeddings": True, "max_seq_length": 128, "length_grouping": True},
        "grouped-l4": {"freeze_layers": 4, "max_seq_length": 128, "length_grouping": True},
        "grouped-l6": {"freeze_layers": 6, "max_seq_length": 128, "length_grouping": True},
        "grouped-l2": {"freeze_layers": 2, "max_seq_length": 128, "length_grouping": True},
        "grouped-l4-lr5e-5": {"freeze_layers": 4, "max_seq_length": 128, "length_grouping": True, "lr": 5e-5},
        "grouped-l2-lr5e-5": {"freeze_layers": 2, "max_seq_length": 128, "length_grouping": True, "lr": 5e-5},
        "grouped-l4-lr1e-4": {"freeze_layers": 4, "max_seq_length": 128, "length_grouping": True, "lr": 1e-4},
    }
    if bf16_supported():
        out["fast+bf16"] = {**out["fast"], "bf16": True}
    return out


def write_ntrex_pairs(data_dir: Path, out_dir: Path) -> list[Path]:
    """NTREX lb-en and lb-fr as LuxAlign-format pair files (``text_1`` lb, ``text_2`` en/fr)."""
    from luxembedder.datasets.ntrex import read_ntrex
    from luxembedder.utils.io import write_jsonl

    corpus = read_ntrex(data_dir, langs=("lb", "en", "fr"))
    files = []
    for other in ("en", "fr"):
        rows = [{"text_1": a, "text_2": b} for a, b in zip(corpus.sentences["lb"], corpus.sentences[other], strict=True)]
        files.append(write_jsonl(out_dir / f"lb-{other}.jsonl", rows))
    return files


def run_one(recipe: str, steps: int, pair_files: list[Path], out: Path, threads: int, full_epoch: bool,
            hard_negatives: bool, model: str, seed: int = 42) -> dict[str, Any]:
    from luxembedder.training import TrainConfig, train

    cfg = TrainConfig.from_dict({
        "model": model, "pairs": [{"path": str(p)} for p in pair_files], "output_dir": str(out),
        "batch_size": 32, "epochs": 1, "max_steps": -1 if full_epoch else steps, "seed": seed,
        "dev_size": 100 if full_epoch else 0, "threads": threads, "logging_steps": 5,
        "hard_negatives": {"enabled": hard_negatives}, "warmup_ratio": 0.1,
        **recipes()[recipe],
    })
    result = train(cfg)
    t = result.metrics["train"]
    return {"recipe": recipe, "seed": seed, "steps": t["global_step"], "pairs_per_s": t["pairs_per_second"],
            "peak_rss_mb": t["peak_rss_mb"], "train_runtime_s": t["train_runtime_s"], "train_loss": t["train_loss"],
            "dev": result.metrics["dev"], "out": str(result.out_dir), "config": recipes()[recipe]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--recipe", default=None, help="run one recipe in this process (internal, or with --full-epoch)")
    ap.add_argument("--recipes", nargs="*", default=None)
    ap.add_argument("--full-epoch", action="store_true")
    ap.add_argument("--hard-negatives", action="store_true")
    ap.add_argument("--seed", type=int, default=42, help="training seed (batches, dev split, initial state)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="me5-small")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=Path("runs/bench/train_speed.json"))
    ap.add_argument("--table", type=Path, default=None, help="print the table of an earlier --json file and exit")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.table:
        print(markdown(json.loads(args.table.read_text())))
        return

    from luxembedder.models.registry import prepare_model
    from luxembedder.settings import get_settings

    settings = get_settings()
    if args.model == "me5-small":
        prepare_model("me5-small", settings)
    with tempfile.TemporaryDirectory(prefix="ntrex-pairs-") as tmp:
        files = write_ntrex_pairs(settings.require_data_dir(), Path(tmp))
        if args.recipe:
            out = args.out or Path(tmp) / f"model-{args.recipe}"
            res = run_one(args.recipe, args.steps, files, out, args.threads, args.full_epoch,
                          args.hard_negatives, args.model, args.seed)
            print("RESULT " + json.dumps(res))
            return
        rows = []
        for name in args.recipes or list(recipes()):
            proc = subprocess.run(
                [sys.executable, __file__, "--recipe", name, "--steps", str(args.steps), "--threads",
                 str(args.threads), "--model", args.model], capture_output=True, text=True)
            line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                raise SystemExit(f"recipe {name} failed:\n{proc.stderr[-3000:]}")
            rows.append(json.loads(line[-1][7:]))
            print(f"{name}: {rows[-1]['pairs_per_s']} pairs/s, peak RSS {rows[-1]['peak_rss_mb']} MiB", flush=True)
    from luxembedder.utils.io import atomic_write_json
    from luxembedder.utils.provenance import cpu_supports_bf16, now_iso, versions

    record = {"benchmark": "train_speed", "created": now_iso(), "model": args.model, "steps": args.steps,
              "batch_size": 32, "threads": args.threads, "bf16_native": cpu_supports_bf16(),
              "data": "NTREX-128 lb-en + lb-fr (1997 + 1997 pairs)", "rows": rows, "versions": versions()}
    atomic_write_json(args.json, record)
    print(markdown(record))


def markdown(record: dict[str, Any]) -> str:
    """The speed table of a results record (the first row is the reference for the speed-up)."""
    rows = record["rows"]
    base = rows[0]["pairs_per_s"]
    lines = ["| recipe | options | pairs/s | speed-up | peak RSS (MiB) |", "|---|---|---|---|---|"]
    for r in rows:
        opts = ", ".join(f"{k}={v}" for k, v in r["config"].items()) or "fp32, full fine-tuning"
        lines.append(f"| {r['recipe']} | {opts} | {r['pairs_per_s']:.2f} | {r['pairs_per_s'] / base:.2f}× "
                     f"| {r['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
