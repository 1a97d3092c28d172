"""Acceptance run of the evaluation suite: all built-in tasks for me5-small, minilm-en and use-multilingual.

    .venv/bin/python benchmarks/eval_suite.py --out /tmp/luxembedder-eval-suite [--models me5-small ...]

Prints the wall time per model and the headline numbers next to an independent reference measurement for
me5-small (SIB-200 zero-shot 37.2, eng->ltz transfer 63.2, Tatoeba ltz-eng 387 text match 65.2, FLORES
ltz-eng 94.1, ParaLux-dev 17.0). Resumable: re-running skips model × task pairs already in results.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from luxembedder.evaluation.report import markdown_table
from luxembedder.evaluation.runner import evaluate
from luxembedder.settings import get_settings
from luxembedder.utils.io import atomic_write_json

HEADLINES = {
    "SIB-200 zero-shot (5 lb templates)": ("sib200-zeroshot", "ltz_Latn:test", "zeroshot-lb-templates", 37.2),
    "SIB-200 transfer eng->ltz": ("sib200-transfer", "eng_Latn->ltz_Latn", "logreg-transfer", 63.2),
    "Tatoeba ltz-eng (387, text match)": ("bitext-ltz", "tatoeba:ltz-eng:challenge", "top1-cosine", 65.2),
    "FLORES ltz-eng": ("bitext-ltz", "flores:ltz-eng", "top1-cosine", 94.1),
    "ParaLux-dev": ("paralux", "paralux_dev", "triplet-accuracy", 17.0),
    "MTEB SIB200 8-shot ltz": ("sib200-transfer", "ltz_Latn:mteb-8shot", "mteb-SIB200", None),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/luxembedder-eval-suite")
    ap.add_argument("--models", nargs="+", default=["me5-small", "minilm-en", "use-multilingual"])
    ap.add_argument("--tasks", nargs="+", default=[
        "sib200-zeroshot", "paralux", "sib200-transfer", "bitext-ltz", "bitext-lrl"])
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    out = Path(args.out)
    timings: dict[str, float] = {}
    records = []
    # task-major order: the headline tasks finish for every model before the long bitext-lrl starts
    for task in args.tasks:
        for model in args.models:
            t0 = time.perf_counter()
            records = evaluate([model], [task], out, get_settings(), batch_size=args.batch_size)
            timings[model] = round(timings.get(model, 0.0) + time.perf_counter() - t0, 1)
            logging.info("%s / %s: %.1f s wall", model, task, time.perf_counter() - t0)
    # reports once more with all models side by side (evaluate() above wrote them per call)
    evaluate(args.models, args.tasks, out, get_settings())
    rows = []
    for label, (task, subset, proto, ref) in HEADLINES.items():
        row = {"metric": label, "reference_me5": ref}
        for r in records:
            if r.task == task and r.subset == subset and r.protocol.startswith(proto):
                row[r.model] = round(100 * r.main_score, 1)
        rows.append(row)
    summary = {"wall_seconds": timings, "headlines": rows, "command": " ".join(["benchmarks/eval_suite.py",
               "--out", str(out), "--models", *args.models])}
    atomic_write_json(out / "summary.json", summary)
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    print(markdown_table(records))


if __name__ == "__main__":
    main()
