"""Training speed and memory of me5-small on NTREX-128 lb-en + lb-fr (1997 + 1997 human translation pairs).

Speed mode (default) runs each recipe in its own process (peak RSS is per process) for a fixed number of
optimizer steps and reports pairs/s and peak RSS; ``--full-epoch`` trains one recipe for one epoch and saves
the model for evaluation.

    python benchmarks/train_speed.py --steps 12                      # speed table (JSON + Markdown)
    python benchmarks/train_speed.py --table docs/results/train_speed.json # the table of a recorded run
    python benchmarks/train_speed.py --full-epoch --recipe grouped-l4 --out runs/bench/me5-ntrex-fast
    python benchmarks/train_speed.py --full-epoch --recipe grouped-l4 --hard-negatives --out runs/bench/me5-ntrex-fast-hn
    # the RESULT lines of full-epoch logs as one record; then speed and quality side by side, with paired
    # differences to a reference run (results.json of `luxembedder eval` on the saved models, with items)
    python benchmarks/train_speed.py --collect LOG [LOG ...] [--contended LOG ...] --json EPOCH.json
    python benchmarks/train_speed.py --quality-table EPOCH.json RESULTS.json [--reference me5-ntrex-plain]
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
    return {"recipe": recipe, "seed": seed, "hard_negatives": hard_negatives, "steps": t["global_step"],
            "pairs_per_s": t["pairs_per_second"], "peak_rss_mb": t["peak_rss_mb"], "train_runtime_s": t["train_runtime_s"], "train_loss": t["train_loss"],
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
    ap.add_argument("--collect", type=Path, nargs="+", default=None, help="full-epoch logs to gather into --json")
    ap.add_argument("--contended", type=Path, nargs="*", default=[],
                    help="logs (of --collect) whose run shared the CPU with another job: speed not comparable")
    ap.add_argument("--quality-table", type=Path, nargs=2, default=None, metavar=("EPOCH_JSON", "RESULTS_JSON"))
    ap.add_argument("--reference", default="me5-ntrex-plain", help="model folder name of the reference run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.table:
        print(markdown(json.loads(args.table.read_text())))
        return
    if args.collect:
        from luxembedder.utils.io import atomic_write_json

        atomic_write_json(args.json, collect(args.collect, args.contended))
        print(args.json)
        return
    if args.quality_table:
        from luxembedder.evaluation.results import load_results

        epoch, results = args.quality_table
        print(quality_markdown(json.loads(epoch.read_text()), load_results(results), args.reference))
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


def collect(logs: list[Path], contended: list[Path]) -> dict[str, Any]:
    """The last ``RESULT`` line of each full-epoch log as one record (logs named in ``contended`` ran beside
    another job: their pairs/s is kept but flagged)."""
    import yaml

    from luxembedder.utils.provenance import now_iso, versions

    rows = []
    for log in logs:
        lines = [ln for ln in log.read_text(encoding="utf-8").splitlines() if ln.startswith("RESULT ")]
        if not lines:
            raise SystemExit(f"{log}: no RESULT line (did the run finish?)")
        row = json.loads(lines[-1][7:])
        row.setdefault("seed", 42)  # runs logged before --seed existed used 42
        if "hard_negatives" not in row:  # older RESULT lines: read it from the saved model's resolved config
            cfg = yaml.safe_load((Path(row["out"]) / "train_config.yaml").read_text(encoding="utf-8"))
            row["hard_negatives"] = bool(cfg["hard_negatives"]["enabled"])
        row.update(log=str(log), contended=log in contended)
        rows.append(row)
    return {"benchmark": "train_speed --full-epoch", "created": now_iso(),
            "command": "python benchmarks/train_speed.py --full-epoch --recipe NAME [--seed S] [--hard-negatives] "
                       "--out DIR > LOG; then --collect LOG ...",
            "model": "me5-small", "batch_size": 32, "threads": 2,
            "data": "NTREX-128 lb-en + lb-fr, 100 + 100 held out as dev (seeded)", "rows": rows, "versions": versions()}


QUALITY_COLUMNS = (  # (header, task, protocol prefix)
    ("SIB-200 zero-shot", "sib200-zeroshot", "zeroshot-lb-templates"),
    ("eng→ltz transfer", "sib200-transfer", "logreg-transfer"),
    ("Tatoeba ltz-eng", "bitext-ltz", "top1-cosine"),
    ("ParaLux-dev", "paralux", "triplet-accuracy"),
)


def quality_markdown(epoch: dict[str, Any], records: list, reference: str) -> str:
    """Speed and scores per full-epoch run, then each run's paired difference to ``reference`` (a model
    folder name; its seed-42 run without hard negatives) on the same test items."""
    from luxembedder.errors import ConfigError
    from luxembedder.evaluation.compare import compare_models
    from luxembedder.evaluation.results import resolve_model_name
    from luxembedder.evaluation.stats import P_VALUE_CONVENTION

    def resolve(folder: str) -> str | None:
        try:
            return resolve_model_name(records, folder)
        except ConfigError:
            return None

    def score(model: str, task: str, protocol: str) -> Any:
        return next((r for r in records if r.model == model and r.task == task and r.protocol.startswith(protocol)),
                    None)

    rows = epoch["rows"]
    ref_row = next(r for r in rows if Path(r["out"]).name == reference)
    ref_speed = ref_row["pairs_per_s"]
    head = ["recipe", "lr", "seed", "hard negatives", "pairs/s", "speed-up", "peak RSS (GB)", "train loss",
            *(c[0] for c in QUALITY_COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = ["base me5-small", "–", "–", "–", "–", "–", "–", "–"]
    base += [f"{100 * rec.main_score:.1f}" if (rec := score("me5-small", t, p)) else "–" for _, t, p in QUALITY_COLUMNS]
    lines.append("| " + " | ".join(base) + " |")
    diffs = []
    for row in rows:
        model = resolve(Path(row["out"]).name)
        opts = recipes().get(row["recipe"], {})
        speed = f"{row['pairs_per_s']:.2f}" + (" (contended)" if row.get("contended") else "")
        cells = [row["recipe"], f"{opts.get('lr', 2e-5):g}", str(row["seed"]), "yes" if row["hard_negatives"] else "no",
                 speed, "–" if row.get("contended") else f"{row['pairs_per_s'] / ref_speed:.2f}×",
                 f"{row['peak_rss_mb'] / 1024:.1f}", f"{row['train_loss']:.3f}"]
        cells += [f"{100 * rec.main_score:.1f}" if model and (rec := score(model, t, p)) else "–"
                  for _, t, p in QUALITY_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
        if model and row is not ref_row:
            cmp = compare_models(records, reference, model, tasks=[t for _, t, _ in QUALITY_COLUMNS])
            out = []
            for _, t, p in QUALITY_COLUMNS:
                c = next((v for v in cmp if v["task"] == t and v["protocol"].startswith(p)), None)
                out.append("–" if c is None or c["low"] is None else
                           f"{c['diff']:+.1f} [{c['low']:+.1f}, {c['high']:+.1f}]" + ("*" if c["p_value"] < 0.05 else ""))
            diffs.append(f"| {row['recipe']} | {opts.get('lr', 2e-5):g} | {row['seed']} | "
                         f"{'yes' if row['hard_negatives'] else 'no'} | " + " | ".join(out) + " |")
    dhead = ["recipe", "lr", "seed", "hard negatives", *(c[0] for c in QUALITY_COLUMNS)]
    return ("\n".join(lines) + f"\n\nPaired difference to `{reference}` (seed {ref_row['seed']}) on the same test "
            f"items, percentage points, 95% paired bootstrap; * p < 0.05 ({P_VALUE_CONVENTION}):\n\n"
            + "\n".join(["| " + " | ".join(dhead) + " |", "|" + "---|" * len(dhead), *diffs]) + "\n")


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
