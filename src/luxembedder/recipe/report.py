"""The recipe report: one static ``report.html`` (charts inlined, opens without a server) and ``report.md``,
both rendered from the shared templates (:mod:`luxembedder.utils.report`: percent with one decimal, 95% CI in
brackets, Δ with the named paired test).

Sections: what went in, the mining funnel (with score histograms: threshold line and gold alignments), mining
quality against known alignments (when available), example pairs (good ones and borderline rejects), training
(formatted tables, the training curve, a warning when the held-out dev split is too small to pick a
checkpoint), base vs fine-tuned per task and protocol, and the provenance of every number.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.datasets.ntrex import load_gold, normalize_for_match
from luxembedder.evaluation.report import PAIRED_TEST, _bootstrap_resamples, _group_labels, paired_delta
from luxembedder.evaluation.results import ResultRecord
from luxembedder.models.registry import model_name
from luxembedder.utils import report as R
from luxembedder.utils.plotting import legend_outside, pyplot, save_png

logger = logging.getLogger(__name__)

SECTIONS = (
    "What went in",
    "Mining funnel",
    "Mining quality",
    "Example pairs",
    "Training",
    "Base vs fine-tuned",
    "Provenance",
)

def _record_get(r: Any, key: str) -> Any:
    return r.get(key) if isinstance(r, dict) else getattr(r, key)


def headline_rows(records: list[Any], base: str, finetuned: str, n_resamples: int = 1000) -> list[dict[str, Any]]:
    """Main score per task × subset × protocol for the base and fine-tuned model (fractions), with the difference
    ``delta`` and, where both records carry per-item scores, its paired-bootstrap interval ``delta_ci95``,
    ``p_value`` and ``test``."""
    names = {}
    for label, ref in (("base", base), ("fine-tuned", finetuned)):
        try:
            names[label] = model_name(ref)
        except Exception:  # a model that no longer resolves still has rows under its recorded name
            names[label] = ref
    table: dict[tuple[str, str, str], dict[str, Any]] = {}
    recs: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in records:
        model = _record_get(r, "model")
        label = next((k for k, v in names.items() if v == model), None)
        if label is None:
            continue
        key = (_record_get(r, "task"), _record_get(r, "subset"), _record_get(r, "protocol"))
        row = table.setdefault(key, {"task": key[0], "subset": key[1], "protocol": key[2]})
        row[label] = float(_record_get(r, "main_score"))
        ci = _record_get(r, "ci95")
        row[f"{label}_ci95"] = list(ci) if ci else None
        row["n"] = _record_get(r, "n")
        recs.setdefault(key, {})[label] = r if isinstance(r, ResultRecord) else ResultRecord.model_validate(r)
    rows = []
    for key, row in table.items():
        if "base" in row and "fine-tuned" in row:
            d = paired_delta(recs[key]["base"], recs[key]["fine-tuned"], n_resamples) or {}
            row["delta"] = row["fine-tuned"] - row["base"]
            row["delta_ci95"] = [d["low"], d["high"]] if "low" in d else None
            row["p_value"] = d.get("p_value")
            row["test"] = d.get("test")
            row["delta_note"] = d.get("note")
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------------ charts


def _funnel_chart(report: dict[str, Any], out: Path) -> Path | None:
    steps_by_pair = {p: s.get("steps", []) for p, s in (report.get("selection") or {}).items()}
    if not steps_by_pair:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(steps_by_pair), figsize=(6 * len(steps_by_pair), 3.6), squeeze=False)
    for ax, (pair, steps) in zip(axes[0], steps_by_pair.items(), strict=True):
        cand = report.get("candidates", {}).get(pair, {})
        labels = ["candidates"] + [s["filter"] for s in steps]
        values = [cand.get("candidates", steps[0]["in"] if steps else 0)] + [s["out"] for s in steps]
        y = np.arange(len(labels))[::-1]
        ax.barh(y, values, color="#3b7dd8")
        ax.set_yticks(y, labels)
        ax.set_xscale("symlog")
        for yi, v in zip(y, values, strict=True):
            ax.text(v, yi, f" {v:,}", va="center", fontsize=8)
        ax.set_xlabel("sentence pairs left (log scale)")
        ax.set_ylabel("filter step")
        ax.set_title(f"{pair}: sentence-pair funnel")
    fig.tight_layout()
    return save_png(fig, out / "funnel.png")


def _gold_keys(gold_path: str | None, pair: str) -> set[tuple[str, str]]:
    if not gold_path or not Path(gold_path).is_file():
        return set()
    return {(normalize_for_match(g["lb"]), normalize_for_match(g["other"])) for g in load_gold(gold_path)
            if g.get("type") == "sentence_pair" and g.get("pair") == pair}


def _score_histograms(mining_dir: Path, scoring: dict[str, Any], gold_path: str | None, out: Path) -> list[Path]:
    """Per language pair: the deciding score of every candidate, the accepted ones, and the candidates that are
    gold alignments, with the acceptance threshold as a vertical line."""
    path = mining_dir / "candidates.parquet"
    if not path.is_file():
        return []
    import pyarrow.parquet as pq

    t = pq.read_table(path).to_pydict()
    if not t.get("text_1"):
        return []
    method = scoring.get("method", "cosine")
    key, thr = (("margin", scoring.get("margin_threshold")) if method == "margin"
                else ("cos_sim", scoring.get("cosine_threshold")))
    label = "ratio margin" if key == "margin" else "cosine similarity"
    pairs = np.array(t["lang_pair"])
    scores = np.array([np.nan if v is None else v for v in t[key]], dtype=float)
    accepted = np.array(t["accepted"], dtype=bool)
    plt = pyplot()
    written = []
    for pair in dict.fromkeys(t["lang_pair"]):
        sel = (pairs == pair) & ~np.isnan(scores)
        if not sel.any():
            continue
        v = scores[sel]
        bins = np.histogram_bin_edges(v, bins=40)
        fig, ax = plt.subplots(figsize=(7, 3.4))
        ax.hist(v, bins=bins, color="#9aa5b1", label=f"all candidates ({sel.sum():,})")
        ax.hist(scores[sel & accepted], bins=bins, color="#3b7dd8", alpha=0.85,
                label=f"accepted ({(sel & accepted).sum():,})")
        gold = _gold_keys(gold_path, pair)
        if gold:
            idx = np.flatnonzero(sel)
            is_gold = np.array([(normalize_for_match(t["text_1"][i]), normalize_for_match(t["text_2"][i])) in gold
                                for i in idx], dtype=bool)
            ax.hist(scores[idx[is_gold]], bins=bins, histtype="step", color="#d8553b", linewidth=1.6,
                    label=f"gold alignments ({is_gold.sum():,})")
        if thr is not None and bins[0] <= thr <= bins[-1]:
            ax.axvline(thr, color="#222", linestyle="--", linewidth=1, label=f"threshold {thr:g}")
        elif thr is not None:
            ax.text(0.01, 0.97, f"threshold {thr:g} (outside the range shown)", transform=ax.transAxes,
                    fontsize=7, va="top")
        ax.set_xlabel(f"{label} ({method} scoring)")
        ax.set_ylabel("candidate pairs")
        ax.set_title(f"{pair}: candidate scores")
        legend_outside(ax)
        written.append(save_png(fig, out / f"scores_{pair}.png"))
    return written


def _training_chart(log: list[dict[str, Any]], out: Path) -> Path | None:
    pts = [(e["step"], e["loss"]) for e in log if "loss" in e and "step" in e]
    dev = [(e["step"], 100 * v) for e in log for k, v in e.items() if k.startswith("eval_") and k.endswith("accuracy")
           and "mean" in k and isinstance(v, int | float)]
    if not pts:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.plot(*zip(*pts, strict=True), marker=".", label="training loss")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss")
    handles, labels = ax.get_legend_handles_labels()
    if dev:
        ax2 = ax.twinx()
        ax2.plot(*zip(*dev, strict=True), "o", color="#d8553b", label="dev retrieval accuracy (mean per pair, %)")
        ax2.set_ylabel("dev accuracy (%)")
        ax2.set_ylim(0, 102)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.set_title("training curve")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.12 if dev else 1.01, 1.0), fontsize=8,
              frameon=False)
    return save_png(fig, out / "training.png")


def _scores_chart(rows: list[dict[str, Any]], out: Path) -> Path | None:
    rows = [r for r in rows if "base" in r and "fine-tuned" in r]
    if not rows:
        return None
    plt = pyplot()
    labels = _group_labels([(r["task"] if r["subset"] == "default" else f"{r['task']} / {r['subset']}",
                             r["protocol"]) for r in rows])
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6.5, 1.3 * len(rows)), 4.2))
    for off, key, color in ((-0.2, "base", "#9aa5b1"), (0.2, "fine-tuned", "#3b7dd8")):
        vals = np.array([100 * r[key] for r in rows])
        cis = [[100 * c for c in (r.get(f"{key}_ci95") or [r[key], r[key]])] for r in rows]
        err = np.array([[v - c[0] for v, c in zip(vals, cis, strict=True)],
                        [c[1] - v for v, c in zip(vals, cis, strict=True)]])
        ax.bar(x + off, vals, width=0.4, yerr=np.clip(err, 0, None), capsize=3, color=color, label=key)
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylim(0, 100)
    ax.set_xlabel("task / subset, protocol")
    ax.set_ylabel("main score (%), 95% CI")
    ax.set_title("base vs fine-tuned")
    legend_outside(ax, title="model")
    return save_png(fig, out / "scores.png")


# ------------------------------------------------------------------------------------------ tables


def _example_pairs(mining_dir: Path, scoring: str, n: int = 5) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """Accepted pairs at the top, middle and bottom of the score range, and the highest-scoring rejects."""
    path = mining_dir / "candidates.parquet"
    score_key = "margin" if scoring == "margin" else "cos_sim"
    if not path.is_file():
        return score_key, {}
    import pyarrow.parquet as pq

    t = pq.read_table(path).to_pydict()
    if not t.get("text_1"):
        return score_key, {}
    scores = np.array([np.nan if v is None else v for v in t[score_key]], dtype=float)
    accepted = np.array(t["accepted"], dtype=bool)
    out: dict[str, list[dict[str, Any]]] = {}

    def rows(idx: np.ndarray) -> list[dict[str, Any]]:
        return [{"pair": t["lang_pair"][i], "lb": t["text_1"][i], "other": t["text_2"][i],
                 "cosine": R.num(t["cos_sim"][i]), "margin": R.num(t["margin"][i]),
                 "reason": t["reason"][i] or R.DASH} for i in idx]

    acc = np.flatnonzero(accepted & ~np.isnan(scores))
    if len(acc):
        order = acc[np.argsort(-scores[acc])]
        picks = np.unique(np.concatenate([order[:2], order[len(order) // 2: len(order) // 2 + 1], order[-2:]]))
        out["accepted"] = rows(picks[np.argsort(-scores[picks])][:n])
    rej = np.flatnonzero(~accepted & ~np.isnan(scores))
    if len(rej):
        out["borderline rejects"] = rows(rej[np.argsort(-scores[rej])][:n])
    return score_key, out


def _dropped(d: dict[str, Any] | None) -> str:
    return ", ".join(f"{k} {R.count(v)}" for k, v in (d or {}).items()) or R.DASH


def _training_tables(meta: dict[str, Any], min_dev_pairs: int) -> tuple[list[dict], list[dict], list[dict], list[str]]:
    """(pairs per language pair, dev retrieval per pair, the run's figures, warnings) from ``luxembedder.json``."""
    counts = meta.get("pair_counts") or {}
    leak = meta.get("leakage_dropped") or {}
    pair_rows = [{"pair": p, "train pairs": c.get("train"), "held-out dev pairs": c.get("dev"),
                  "dropped (leakage)": leak.get(p)} for p, c in counts.items()]
    metrics = meta.get("metrics") or {}
    dev = metrics.get("dev") or {}
    dev_rows = []
    for p in counts:
        vals = {d: dev.get(f"dev_{p}_{d}_accuracy") for d in ("src2trg", "trg2src", "mean")}
        if any(v is not None for v in vals.values()):
            dev_rows.append({"pair": p, "n": (counts[p] or {}).get("dev"), "lb → other (%)": R.pct(vals["src2trg"]),
                             "other → lb (%)": R.pct(vals["trg2src"]), "mean (%)": R.pct(vals["mean"])})
    tr = metrics.get("train") or {}
    run = [("loss", meta.get("loss")), ("steps", R.count(tr.get("global_step"))),
           ("epochs", R.num(tr.get("epochs_done"), 1)), ("training pairs", R.count(tr.get("train_samples"))),
           ("final training loss", R.num(tr.get("train_loss"))),
           ("throughput", f"{tr['pairs_per_second']:,.1f} pairs/s" if tr.get("pairs_per_second") else None),
           ("training time", R.seconds(tr.get("train_runtime_s"))),
           ("peak memory", f"{tr['peak_rss_mb']:,.0f} MB" if tr.get("peak_rss_mb") else None),
           ("checkpoint kept", "best on the dev split" if tr.get("best_checkpoint") else "last step"),
           ("dev score used for the choice (%)", R.pct(dev.get("sequential_score"))
            if dev.get("sequential_score") is not None else None)]
    run_rows = [{"quantity": k, "value": v} for k, v in run if v not in (None, R.DASH)]
    warnings = []
    small = {p: (c or {}).get("dev") for p, c in counts.items() if ((c or {}).get("dev") or 0) < min_dev_pairs}
    if small and dev:
        warnings.append("tiny dev split (" + ", ".join(f"{p}: {n or 0} pairs" for p, n in small.items())
                        + f", fewer than {min_dev_pairs}): the dev accuracies move in steps of "
                        f"{100 / max(1, min(n or 1 for n in small.values())):.0f} points, so the best-checkpoint "
                        "choice and the dev scores below are unreliable; mine more pairs or set a larger dev share.")
    return pair_rows, dev_rows, run_rows, warnings


def _data_folder_line(context: dict[str, Any]) -> str:
    """The data folder this run actually read (recorded by the run, never assumed)."""
    d = context.get("data_dir")
    return str(d) if d else "none found or used (only the bundled sample and evaluation sets)"


def write_report(
    out_dir: Path, context: dict[str, Any], records: list[Any], min_dev_pairs: int = 50,
    n_resamples: int = 1000,
) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` (plus ``report_assets/*.png``) for a recipe run.

    ``min_dev_pairs``: held-out dev pairs per language pair below which a warning says the best-checkpoint
    choice is unreliable (under ~50 pairs one retrieval hit moves dev accuracy by 2 points or more); ``n_resamples``: resamples behind each Δ (its bootstrap interval and, for non-0/1 items, the sign-flip permutation p-value).
    """
    out_dir = Path(out_dir)
    assets = out_dir / "report_assets"
    assets.mkdir(parents=True, exist_ok=True)
    c = context
    mining_dir = Path(c["mining_dir"])
    mreport = json.loads((mining_dir / "report.json").read_text()) if (mining_dir / "report.json").is_file() else {}
    mcfg_path = mining_dir / "config.yaml"
    import yaml

    mcfg = yaml.safe_load(mcfg_path.read_text()) if mcfg_path.is_file() else {}
    model_dir = Path(c["finetuned_model"])
    log_path = model_dir / "training_log.json"
    train_log = json.loads(log_path.read_text()) if log_path.is_file() else []
    meta_path = model_dir / "luxembedder.json"
    train_meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    rows = headline_rows(records, c["base_model"], c["finetuned_model"], n_resamples)

    ci_resamples = _bootstrap_resamples(Path(c.get("eval_dir") or out_dir / "eval"))
    charts = {"funnel": _funnel_chart(mreport, assets), "training": _training_chart(train_log, assets),
              "scores": _scores_chart(rows, assets)}
    histograms = _score_histograms(mining_dir, mcfg.get("scoring") or {"method": mreport.get("scoring", "cosine")},
                                   (c.get("collection") or {}).get("gold"), assets)

    doc = R.Document(f"{c['name']}: LuxEmbedder recipe report")
    doc.add_lead(c["created"], "Created")
    doc.add_lead(c["collection"]["description"], "Mining data")
    doc.add_lead(c["eval_data"], "Evaluation data")
    doc.add_lead(_data_folder_line(c), "Data folder used")
    doc.add_lead("scores in percent with one decimal, 95% bootstrap confidence interval over items in brackets"
                 + (f" ({ci_resamples:,} resamples)" if ci_resamples else "") + f"; Δ = fine-tuned − base in "
                 f"percentage points with its 95% interval and the p-value of a {PAIRED_TEST} over the same items "
                 f"({n_resamples:,} resamples).", "Numbers")

    # ---- what went in
    s = doc.section("What went in")
    s.table([{"language": lang, "articles in": a.get("in"), "kept": a.get("kept"), "dropped": _dropped(a.get("dropped")),
              "first date": (a.get("date_range") or [None, None])[0],
              "last date": (a.get("date_range") or [None, None])[1]}
             for lang, a in (mreport.get("articles") or {}).items()])
    s.h3("Sentences per language")
    s.table([{"language": lang, "split": st.get("split"), "kept": st.get("kept"), "dropped": _dropped(st.get("dropped"))}
             for lang, st in (mreport.get("sentences") or {}).items()])

    # ---- funnel
    funnel = []
    for pair, sel in (mreport.get("selection") or {}).items():
        am = (mreport.get("article_matching") or {}).get(pair, {})
        funnel.append({"pair": pair, "stage": "article matches", "in": am.get("source_articles"),
                       "dropped": None, "out": am.get("matches")})
        funnel.append({"pair": pair, "stage": "candidate sentence pairs", "in": None, "dropped": None,
                       "out": (mreport.get("candidates") or {}).get(pair, {}).get("candidates")})
        funnel += [{"pair": pair, "stage": st["filter"], "in": st["in"], "dropped": st["dropped"], "out": st["out"]}
                   for st in sel.get("steps", [])]
    s = doc.section("Mining funnel")
    s.figure(charts["funnel"], out_dir, "sentence pairs left after each filter (log scale)")
    s.table(funnel, ["pair", "stage", "in", "dropped", "out"])
    for h in histograms:
        s.figure(h, out_dir, f"{h.stem.removeprefix('scores_')}: candidate scores, accepted pairs, gold alignments "
                 "and the threshold")

    # ---- quality
    s = doc.section("Mining quality")
    mq = c.get("mining_quality") or {}
    quality = []
    for pair, m in (mq.get("pairs") or {}).items():
        am = (mq.get("article_matching") or {}).get(pair, {}).get("sentence_stage_threshold", {})
        quality.append({"pair": pair, "precision (%)": R.pct(m.get("precision")), "recall (%)": R.pct(m.get("recall")),
                        "F1 (%)": R.pct(m.get("f1")), "mined": m.get("mined", m.get("n_pred")),
                        "gold": m.get("gold", m.get("n_gold")),
                        "article matching accuracy (%)": R.pct(am.get("accuracy"))})
    if quality:
        s.table(quality)
    else:
        s.p("No gold alignments for this collection.")

    # ---- examples
    score_key, examples = _example_pairs(mining_dir, mreport.get("scoring", "cosine"))
    s = doc.section("Example pairs")
    s.p(f"Scores: cosine similarity and ratio margin (three decimals); ordered by {score_key}.")
    for kind, ex in examples.items():
        s.h3(kind).table(ex, ["pair", "lb", "other", "cosine", "margin", "reason"])

    # ---- training
    pair_rows, dev_rows, run_rows, warns = _training_tables(train_meta, min_dev_pairs)
    s = doc.section("Training")
    for w in warns:
        s.warning(w)
        doc.warnings.append(w)
    s.p(f"Base model {c['base_model']} → {model_dir} (in results: {c.get('finetuned_model_name', model_dir.name)}).")
    s.figure(charts["training"], out_dir, "training loss per step and dev retrieval accuracy at each evaluation")
    s.h3("Pairs").table(pair_rows)
    s.h3("Run").table(run_rows)
    if dev_rows:
        s.h3("Dev retrieval after training (held-out pairs, top-1 accuracy)").table(dev_rows)

    # ---- scores
    s = doc.section("Base vs fine-tuned")
    s.p("Main score [95% CI] per task, subset and protocol; Δ = fine-tuned − base "
        f"({PAIRED_TEST}, two-sided p).")
    s.figure(charts["scores"], out_dir, "base vs fine-tuned, main score (%) with 95% CI, per task and protocol")
    s.table([{"task": r["task"], "subset": r["subset"], "protocol": r["protocol"], "n": r.get("n"),
              "base": R.score(r.get("base"), r.get("base_ci95")),
              "fine-tuned": R.score(r.get("fine-tuned"), r.get("fine-tuned_ci95")),
              "Δ": R.delta({"diff": r["delta"], "low": (r.get("delta_ci95") or [None, None])[0],
                            "high": (r.get("delta_ci95") or [None, None])[1], "p_value": r.get("p_value"),
                            "test": r.get("test"), "note": r.get("delta_note")}) if "delta" in r else R.DASH}
             for r in rows])

    # ---- provenance
    provenance, seen = [], set()
    for r in records:
        for d in _record_get(r, "data") or []:
            path, sha = (d["path"], d["sha256"]) if isinstance(d, dict) else (d.path, d.sha256)
            if (path, sha) not in seen:
                seen.add((path, sha))
                provenance.append({"file": path, "sha256": sha})
    for inp in mreport.get("inputs", []):
        if (inp["path"], inp["sha256"]) not in seen:
            seen.add((inp["path"], inp["sha256"]))
            provenance.append({"file": inp["path"], "sha256": inp["sha256"]})
    seeds = sorted({str(_record_get(r, "seed")) for r in records})
    s = doc.section("Provenance")
    s.p(f"Models: base {c['base_model']}, fine-tuned {model_dir} (in results: "
        f"{c.get('finetuned_model_name', model_dir.name)}). Seeds: {', '.join(seeds) or R.DASH}. Data folder: "
        f"{_data_folder_line(c)}.")
    s.table([{"stage": k, "time": R.seconds(v)} for k, v in c["timings"].items()])
    s.table(provenance, ["file", "sha256"])
    s.p("Versions: " + ", ".join(f"{k} {v}" for k, v in c["versions"].items()))
    s.p("Configs: recipe.yaml (this run), mine/config.yaml, <name>-finetuned/train_config.yaml, "
        "eval/eval_config.yaml; all records in eval/results.json.")
    paths = doc.write(out_dir)
    logger.info("report: %s", paths["html"])
    return paths["md"], paths["html"]
