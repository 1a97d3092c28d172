"""The quality ablation (issue 15): each training lever on development data, 3 seeds, paired deltas.

Every arm trains me5-small with the recipe's training section (``configs/best-offline.yaml``: the mined NTREX
pairs of its first 113 documents, the CPU recipe, a fixed number of optimizer steps) plus the arm's overrides
from ``configs/quality-ablation.yaml``, then scores the model on development data only:

- SIB-200 ``ltz_Latn`` **dev** (99) zero-shot (Luxembourgish and English label templates) and eng→ltz transfer
  (logistic regression on SIB-200 eng train, tested on ltz dev);
- retrieval on NTREX's 10 **held-out** documents (lb↔en, lb↔fr; never mined, never trained on);
- paraphrase triplets made from those held-out pairs: anchor = the English sentence, paraphrase = its
  Luxembourgish translation, not_paraphrase = a rule-based minimal meaning-changing edit of it.

The chosen arm is then scored once on the test sets (``test``). Every unit runs in its own process and is
skipped when done (resumable); the load average is recorded with every timing.

    python benchmarks/quality_ablation.py prepare                 # mine once, write the dev files
    python benchmarks/quality_ablation.py run --arms reference letz --seeds 42 43 44
    python benchmarks/quality_ablation.py table --json docs/results/quality_ablation.json --md docs/results/quality_ablation.md
    luxembedder run --config configs/best-offline.yaml --out runs/quality   # seed 42 of the chosen recipe, tested
    python benchmarks/quality_ablation.py test --models runs/quality/models/reference-s43 runs/quality/models/reference-s44
    python benchmarks/quality_ablation.py test-table --models best-offline-finetuned reference-s43 reference-s44
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

logger = logging.getLogger("quality_ablation")
ROOT = Path(__file__).resolve().parents[1]


def load_plan(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def recipe_config(plan: dict[str, Any]) -> Any:
    from luxembedder.recipe.config import RecipeConfig

    return RecipeConfig.from_yaml(ROOT / plan["recipe"])


def dev_dir(out: Path) -> Path:
    return out / "dev-data"


def dev_tasks(out: Path) -> list[str]:
    d = dev_dir(out)
    return ["sib200-zeroshot", f"classification:{d / 'sib_eng_train.tsv'}:{d / 'sib_ltz_dev.tsv'}",
            f"bitext:{d / 'heldout_lb_en.tsv'}:lb:en", f"bitext:{d / 'heldout_lb_fr.tsv'}:lb:fr",
            f"triplets:{d / 'heldout_triplets.jsonl'}"]


def dev_suite() -> Any:
    from luxembedder.evaluation.tasks import SuiteConfig

    return SuiteConfig.from_dict({"sib200_zeroshot": {"split": "dev"}})


def _write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    import csv
    import io

    from luxembedder.utils.io import atomic_write_text

    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def prepare(plan: dict[str, Any], out: Path) -> None:
    """Mine the collection exactly as ``luxembedder run`` does; write the development files."""
    from luxembedder.datasets import benchmarks as B
    from luxembedder.datasets.parallel import ntrex_parallel
    from luxembedder.recipe.run import mine_stage, prepare_collection
    from luxembedder.settings import get_settings
    from luxembedder.training.negatives import HardNegativeGenerator
    from luxembedder.utils.io import write_jsonl

    settings = get_settings()
    cfg = recipe_config(plan)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    collection = prepare_collection(cfg, out, settings)
    _, n_pairs, quality = mine_stage(cfg, collection, out, settings, show_progress=False)
    logger.info("mined %s in %.0f s (load %s)", n_pairs, time.perf_counter() - t0, _load())
    d = dev_dir(out)
    d.mkdir(parents=True, exist_ok=True)
    data = settings.require_data_dir()
    held = {r.pair: r for r in ntrex_parallel(data, ["lb-en", "lb-fr"], plan["holdout_documents"], heldout=True)}
    for pair, rows in held.items():
        other = pair.split("-")[1]
        _write_tsv(d / f"heldout_{pair.replace('-', '_')}.tsv", ["lb", other],
                   [[a, b] for a, b in zip(rows.first, rows.second, strict=True)])
    gen = HardNegativeGenerator(seed=0)
    triplets = []
    for lb, en in zip(held["lb-en"].first, held["lb-en"].second, strict=True):
        neg = gen.generate(lb, "lb", other=en)
        if neg is not None:
            triplets.append({"anchor": en, "paraphrase": lb, "not_paraphrase": neg.text, "edit_type": neg.edit})
    write_jsonl(d / "heldout_triplets.jsonl", triplets)
    _write_tsv(d / "sib_eng_train.tsv", ["label", "text"],
               [[r.category, r.text] for r in B.read_sib200(data, "eng_Latn", "train")])
    _write_tsv(d / "sib_ltz_dev.tsv", ["label", "text"],
               [[r.category, r.text] for r in B.read_sib200(data, "ltz_Latn", "dev")])
    summary = {"pairs": n_pairs, "mining_quality": quality, "heldout_pairs": {k: len(v) for k, v in held.items()},
               "triplets": len(triplets)}
    (out / "prepare.json").write_text(json.dumps(summary, indent=1, default=str))
    logger.info("dev data in %s: %s", d, summary)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def train_config(plan: dict[str, Any], out: Path, arm: str, seed: int) -> Any:
    from luxembedder.recipe.run import recipe_train_config

    cfg = recipe_config(plan)
    n_pairs = json.loads((out / "prepare.json").read_text())["pairs"]
    base = recipe_train_config(cfg, out / "mine", n_pairs, out / "models" / f"{arm}-s{seed}")
    merged = {**base.model_dump(mode="json", exclude_unset=False), **plan["arms"][arm], "seed": seed}
    merged["resume"] = False
    return type(base).from_dict(merged)


def unit(plan: dict[str, Any], out: Path, arm: str, seed: int) -> None:
    """Train one arm with one seed (unless done) and score it on the development tasks."""
    from luxembedder.evaluation.runner import evaluate
    from luxembedder.evaluation.tasks import get_task
    from luxembedder.settings import get_settings
    from luxembedder.training.trainer import train

    settings = get_settings()
    suite = dev_suite()
    if arm == "base":  # the untrained base model, once
        base = recipe_config(plan).base_model
        evaluate([base], [get_task(t, settings, suite) for t in dev_tasks(out)], out / "dev-eval", settings,
                 config=suite)
        return
    cfg = train_config(plan, out, arm, seed)
    model_dir = Path(cfg.output_dir)
    load0 = _load()
    t0 = time.perf_counter()
    if not (model_dir / "luxembedder.json").is_file():
        train(cfg, settings)
    t1 = time.perf_counter()
    evaluate([str(model_dir)], [get_task(t, settings, suite) for t in dev_tasks(out)], out / "dev-eval", settings,
             config=suite)
    t2 = time.perf_counter()
    meta = json.loads((model_dir / "luxembedder.json").read_text())
    line = {"arm": arm, "seed": seed, "train_s": meta["metrics"]["train"]["train_runtime_s"],
            "unit_train_s": round(t1 - t0, 1), "eval_s": round(t2 - t1, 1), "load_before": load0,
            "load_after": _load(), "rows": meta["metrics"]["train"]["train_samples"]}
    with open(out / "units.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    logger.info("RESULT %s", json.dumps(line))


def run(plan: dict[str, Any], out: Path, arms: list[str], seeds: list[int], plan_path: Path) -> None:
    """Every (seed, arm) unit in its own process, seed-major (each seed gives one full comparison first)."""
    subprocess.run([sys.executable, __file__, "--plan", str(plan_path), "--out", str(out), "unit", "--arm", "base",
                    "--seed", "0"], check=True)
    for seed in seeds:
        for arm in arms:
            logger.info("unit %s seed %d (load %s)", arm, seed, _load())
            subprocess.run([sys.executable, __file__, "--plan", str(plan_path), "--out", str(out), "unit",
                            "--arm", arm, "--seed", str(seed)], check=True)


def _records(path: Path) -> list[Any]:
    from luxembedder.evaluation.results import load_results

    return load_results(path)


def _task_label(r: Any) -> str:
    task = r.task.split(":")[0] if ":" in r.task else r.task
    if task == "sib200-zeroshot":
        return "SIB-200 dev zero-shot (" + ("lb" if "-lb-" in r.protocol else "en") + " templates)"
    if task == "classification":
        return "SIB-200 dev eng→ltz transfer"
    if task == "bitext":
        return "held-out retrieval " + ("lb-en" if "lb_en" in r.task else "lb-fr")
    if task == "triplets":
        return "held-out paraphrase triplets"
    return f"{r.task} {r.subset}"


def table(plan: dict[str, Any], out: Path, reference: str, n_boot: int = 10000) -> dict[str, Any]:
    """Mean over seeds per arm and task; Δ to the reference arm with a two-level (seed × item) bootstrap."""
    from luxembedder.analysis.experiment import bootstrap_seeds_items

    recs = _records(out / "dev-eval" / "results.json")
    by: dict[tuple[str, str, int], Any] = {}
    base_rows: dict[str, float] = {}
    for r in recs:
        arm, _, seed = Path(r.model.split("@")[0]).name.rpartition("-s")
        if not arm or not seed.isdigit():
            base_rows[_task_label(r)] = r.main_score
            continue
        by[(arm, _task_label(r), int(seed))] = r
    units = [json.loads(x) for x in (out / "units.jsonl").read_text().splitlines() if x.strip()]
    per_unit = {(u["arm"], u["seed"]): u["train_s"] for u in units}  # a resumed unit repeats its line
    times: dict[str, list[float]] = {}
    for (a, _), secs in per_unit.items():
        times.setdefault(a, []).append(secs)
    arms = [a for a in plan["arms"] if any(k[0] == a for k in by)]
    tasks = sorted({k[1] for k in by})
    rows = []
    for arm in arms:
        seeds = sorted(s for (a, t, s) in by if a == arm and t == tasks[0])
        row: dict[str, Any] = {"arm": arm, "seeds": seeds, "train_s": float(np.mean(times.get(arm, [np.nan]))),
                               "tasks": {}}
        for task in tasks:
            scores = [by[(arm, task, s)].main_score for s in seeds if (arm, task, s) in by]
            cell: dict[str, Any] = {"mean": float(np.mean(scores)), "per_seed": scores}
            common = [s for s in seeds if (reference, task, s) in by and (arm, task, s) in by]
            if arm != reference and common:
                diff = np.stack([np.asarray(by[(arm, task, s)].items) - np.asarray(by[(reference, task, s)].items)
                                 for s in common])
                lo, hi, p = bootstrap_seeds_items(diff, n_boot, 0, 0.05)
                cell.update(delta=float(diff.mean()), ci95=[lo, hi], p=p, paired_seeds=common)
            row["tasks"][task] = cell
        rows.append(row)
    return {"reference": reference, "tasks": tasks, "rows": rows, "n_boot": n_boot, "base": base_rows,
            "protocol": "dev data only; Δ = arm − reference on the same items and seeds; 95% two-level "
                        "bootstrap (seeds and items resampled), two-sided p"}


def markdown(result: dict[str, Any], plan: dict[str, Any]) -> str:
    tasks = result["tasks"]
    lines = ["| arm | what changes | seeds | train s | " + " | ".join(tasks) + " |",
             "|---|---|---|---|" + "---|" * len(tasks)]
    if result.get("base"):
        lines.append("| base | the untrained base model | – | – | "
                     + " | ".join(f"{100 * result['base'][t]:.1f}" if t in result["base"] else "–" for t in tasks) + " |")
    for row in result["rows"]:
        cells = []
        for t in tasks:
            c = row["tasks"].get(t)
            if c is None:
                cells.append("–")
                continue
            s = f"{100 * c['mean']:.1f}"
            if "delta" in c:
                lo, hi = c["ci95"]
                star = " *" if (lo > 0 or hi < 0) else ""
                s += f" (Δ {100 * c['delta']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]{star})"
            cells.append(s)
        what = plan.get("descriptions", {}).get(row["arm"], "")
        lines.append(f"| {row['arm']} | {what} | {len(row['seeds'])} | {row['train_s']:.0f} | " + " | ".join(cells) + " |")
    lines += ["", f"Scores in percent, mean over seeds. Δ to `{result['reference']}`: {result['protocol']} "
              f"({result['n_boot']} resamples); * = interval excludes 0."]
    return "\n".join(lines) + "\n"


def test(plan: dict[str, Any], out: Path, models: list[str]) -> None:
    """Score the chosen recipe's models on the test sets, once, into the recipe's ``<out>/eval``.

    ``luxembedder run --config <recipe> --out <out>`` has scored the base model, the baselines and its own
    fine-tuned model (the chosen arm with the recipe's seed) there already; this adds the other seeds' models
    (rows already in ``results.json`` are skipped).
    """
    from luxembedder.evaluation.runner import evaluate
    from luxembedder.evaluation.tasks import get_task
    from luxembedder.settings import get_settings

    settings = get_settings()
    cfg = recipe_config(plan)
    suite = cfg.evaluation.suite
    t0 = time.perf_counter()
    evaluate(models, [get_task(t, settings, suite) for t in cfg.evaluation.tasks], out / "eval", settings,
             config=suite)
    logger.info("test evaluation in %.0f s (load %s)", time.perf_counter() - t0, _load())


def test_table(plan: dict[str, Any], out: Path, models: list[str], n_boot: int = 10000) -> dict[str, Any]:
    """Test scores: base, baselines, each seed's model (``models``, folder names), their mean and Δ to base."""
    from luxembedder.analysis.experiment import bootstrap_seeds_items

    cfg = recipe_config(plan)
    recs = _records(out / "eval" / "results.json")
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in recs:
        name = Path(r.model.split("@")[0]).name
        row = rows.setdefault((r.task, r.subset, r.protocol), {"task": r.task, "subset": r.subset,
                                                               "protocol": r.protocol, "n": r.n})
        row[name] = r
    out_rows = []
    for row in rows.values():
        base = row.get(cfg.base_model)
        seeds = [row[m] for m in models if m in row]
        if base is None or len(seeds) != len(models):
            continue
        item = {"task": row["task"], "subset": row["subset"], "protocol": row["protocol"], "n": row["n"],
                "base": base.main_score, "seeds": [s.main_score for s in seeds],
                "mean": float(np.mean([s.main_score for s in seeds])),
                "baselines": {b: row[b].main_score for b in cfg.evaluation.baselines if b in row}}
        if base.items is not None and all(s.items is not None for s in seeds):
            diff = np.stack([np.asarray(s.items) - np.asarray(base.items) for s in seeds])
            lo, hi, p = bootstrap_seeds_items(diff, n_boot, 0, 0.05)
            item.update(delta=float(diff.mean()), ci95=[lo, hi], p=p)
        out_rows.append(item)
    return {"models": models, "base": cfg.base_model, "baselines": list(cfg.evaluation.baselines),
            "rows": out_rows, "n_boot": n_boot,
            "protocol": "test sets, scored once; Δ = mean over the seeds' models − base on the same items; 95% "
                        "two-level bootstrap (seeds and items resampled)"}


def test_markdown(result: dict[str, Any]) -> str:
    bl = result["baselines"]
    lines = ["| task | subset | n | " + " | ".join(bl) + f" | {result['base']} | seeds | mean | Δ mean − base [95% CI] |",
             "|---|---|---|" + "---|" * len(bl) + "---|---|---|---|"]
    for r in result["rows"]:
        d = "–"
        if "delta" in r:
            lo, hi = r["ci95"]
            d = f"{100 * r['delta']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]" + (" *" if lo > 0 or hi < 0 else "")
        subset = r["subset"] + (" (en templates)" if "-en-" in r["protocol"] else "")
        lines.append(f"| {r['task']} | {subset} | {r['n']} | "
                     + " | ".join(f"{100 * r['baselines'][b]:.1f}" if b in r["baselines"] else "–" for b in bl)
                     + f" | {100 * r['base']:.1f} | " + " / ".join(f"{100 * x:.1f}" for x in r["seeds"])
                     + f" | **{100 * r['mean']:.1f}** | {d} |")
    lines += ["", f"Scores in percent. {result['protocol']} ({result['n_boot']} resamples); * = interval excludes 0."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", type=Path, default=ROOT / "configs" / "quality-ablation.yaml")
    ap.add_argument("--out", type=Path, default=Path("runs/quality"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("prepare")
    u = sub.add_parser("unit")
    u.add_argument("--arm", required=True)
    u.add_argument("--seed", type=int, required=True)
    r = sub.add_parser("run")
    r.add_argument("--arms", nargs="+")
    r.add_argument("--seeds", nargs="+", type=int)
    t = sub.add_parser("table")
    t.add_argument("--reference", default="reference")
    t.add_argument("--json", type=Path)
    t.add_argument("--md", type=Path)
    te = sub.add_parser("test")
    te.add_argument("--models", nargs="+", required=True, help="model folders (the other seeds' models)")
    tt = sub.add_parser("test-table")
    tt.add_argument("--models", nargs="+", required=True, help="folder names of the seeds' models")
    tt.add_argument("--json", type=Path)
    tt.add_argument("--md", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    plan = load_plan(args.plan)
    out = args.out.resolve()
    if args.cmd == "prepare":
        prepare(plan, out)
    elif args.cmd == "unit":
        unit(plan, out, args.arm, args.seed)
    elif args.cmd == "run":
        run(plan, out, args.arms or list(plan["arms"]), args.seeds or plan["seeds"], args.plan)
    elif args.cmd == "table":
        result = table(plan, out, args.reference)
        md = markdown(result, plan)
        print(md)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
        if args.md:
            args.md.write_text(md)
    elif args.cmd == "test":
        test(plan, out, args.models)
    elif args.cmd == "test-table":
        result = test_table(plan, out, args.models)
        md = test_markdown(result)
        print(md)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
        if args.md:
            args.md.write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
