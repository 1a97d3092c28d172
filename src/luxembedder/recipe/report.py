"""The recipe report: one static ``report.html`` (images inlined, opens without a server) and ``report.md``.

Sections: what went in, the mining funnel, mining quality against known alignments (when available),
example pairs (good ones and borderline rejects), the training curve, base vs fine-tuned per task with
95% confidence intervals, and the provenance of every number.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.utils.io import atomic_write_text
from luxembedder.utils.plotting import pyplot, save_png

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


def headline_rows(records: list[Any], base: str, finetuned: str) -> list[dict[str, Any]]:
    """Main score per task × subset × protocol for the base and fine-tuned model, with the difference."""
    from luxembedder.models.registry import model_name

    names = {}
    for label, ref in (("base", base), ("fine-tuned", finetuned)):
        try:
            names[label] = model_name(ref)
        except Exception:  # a model that no longer resolves still has rows under its recorded name
            names[label] = ref
    table: dict[tuple[str, str, str], dict[str, Any]] = {}
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
    rows = []
    for row in table.values():
        if "base" in row and "fine-tuned" in row:
            row["delta"] = row["fine-tuned"] - row["base"]
        rows.append(row)
    return rows


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


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
            ax.text(v, yi, f" {v}", va="center", fontsize=8)
        ax.set_title(f"{pair}: sentence-pair funnel")
    fig.tight_layout()
    return save_png(fig, out / "funnel.png")


def _training_chart(log: list[dict[str, Any]], out: Path) -> Path | None:
    pts = [(e["step"], e["loss"]) for e in log if "loss" in e and "step" in e]
    dev = [(e["step"], v) for e in log for k, v in e.items() if k.startswith("eval_") and k.endswith("accuracy")
           and isinstance(v, int | float)]
    if not pts:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.plot(*zip(*pts, strict=True), marker=".", label="training loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if dev:
        ax2 = ax.twinx()
        ax2.plot(*zip(*dev, strict=True), "o--", color="#d8553b", label="dev retrieval accuracy")
        ax2.set_ylabel("dev accuracy")
        ax2.set_ylim(0, 1.02)
    ax.set_title("training curve")
    fig.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return save_png(fig, out / "training.png")


def _scores_chart(rows: list[dict[str, Any]], out: Path) -> Path | None:
    rows = [r for r in rows if "base" in r and "fine-tuned" in r]
    if not rows:
        return None
    plt = pyplot()
    labels = [f"{r['task']}\n{r['subset']}" if r["subset"] != "default" else r["task"] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6.5, 1.1 * len(rows)), 3.8))
    for off, key, color in ((-0.2, "base", "#9aa5b1"), (0.2, "fine-tuned", "#3b7dd8")):
        vals = np.array([r[key] for r in rows])
        cis = [r.get(f"{key}_ci95") or [v, v] for r, v in zip(rows, vals, strict=True)]
        err = np.array([[v - c[0] for v, c in zip(vals, cis, strict=True)],
                        [c[1] - v for v, c in zip(vals, cis, strict=True)]])
        ax.bar(x + off, vals, width=0.4, yerr=np.clip(err, 0, None), capsize=3, color=color, label=key)
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("main score (95% CI)")
    ax.legend(fontsize=8)
    ax.set_title("base vs fine-tuned")
    fig.tight_layout()
    return save_png(fig, out / "scores.png")


def _example_pairs(mining_dir: Path, scoring: str, n: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Accepted pairs at the top, middle and bottom of the score range, and the highest-scoring rejects."""
    path = mining_dir / "candidates.parquet"
    if not path.is_file():
        return {}
    import pyarrow.parquet as pq

    t = pq.read_table(path).to_pydict()
    if not t.get("text_1"):
        return {}
    score_key = "margin" if scoring == "margin" else "cos_sim"
    scores = np.array([np.nan if v is None else v for v in t[score_key]], dtype=float)
    accepted = np.array(t["accepted"], dtype=bool)
    out: dict[str, list[dict[str, Any]]] = {}

    def rows(idx: np.ndarray) -> list[dict[str, Any]]:
        return [{"pair": t["lang_pair"][i], "lb": t["text_1"][i], "other": t["text_2"][i],
                 "cos_sim": float(t["cos_sim"][i]),
                 "margin": None if t["margin"][i] is None else float(t["margin"][i]),
                 "reason": t["reason"][i]} for i in idx]

    acc = np.flatnonzero(accepted & ~np.isnan(scores))
    if len(acc):
        order = acc[np.argsort(-scores[acc])]
        picks = np.unique(np.concatenate([order[:2], order[len(order) // 2: len(order) // 2 + 1], order[-2:]]))
        out["accepted"] = rows(picks[np.argsort(-scores[picks])][:n])
    rej = np.flatnonzero(~accepted & ~np.isnan(scores))
    if len(rej):
        out["borderline rejects"] = rows(rej[np.argsort(-scores[rej])][:n])
    out["_score"] = [{"name": score_key}]
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _md_table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    if not rows:
        return "_(none)_\n"
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_fmt(r.get(c)).replace("|", "\\|") for c in cols) + " |" for r in rows]
    return "\n".join(out) + "\n"


def _html_table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    if not rows:
        return "<p><em>(none)</em></p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _ci(r: dict[str, Any], key: str) -> str:
    ci = r.get(f"{key}_ci95")
    return f"{r[key]:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{r[key]:.3f}"


def write_report(out_dir: Path, context: dict[str, Any], records: list[Any]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` (plus ``report_assets/*.png``) for a recipe run."""
    out_dir = Path(out_dir)
    assets = out_dir / "report_assets"
    assets.mkdir(parents=True, exist_ok=True)
    mining_dir = Path(context["mining_dir"])
    mreport = json.loads((mining_dir / "report.json").read_text()) if (mining_dir / "report.json").is_file() else {}
    model_dir = Path(context["finetuned_model"])
    log_path = model_dir / "training_log.json"
    train_log = json.loads(log_path.read_text()) if log_path.is_file() else []
    meta_path = model_dir / "luxembedder.json"
    train_meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    rows = headline_rows(records, context["base_model"], context["finetuned_model"])

    # ---- data for each section
    inputs = [{"language": lang, "articles in": a.get("in"), "kept": a.get("kept"),
               "dropped": ", ".join(f"{k} {v}" for k, v in (a.get("dropped") or {}).items()) or "–",
               "first date": (a.get("date_range") or [None, None])[0],
               "last date": (a.get("date_range") or [None, None])[1]}
              for lang, a in (mreport.get("articles") or {}).items()]
    sentences = [{"language": lang, "split": s.get("split"), "kept": s.get("kept"),
                  "dropped": ", ".join(f"{k} {v}" for k, v in (s.get("dropped") or {}).items()) or "–"}
                 for lang, s in (mreport.get("sentences") or {}).items()]
    funnel = []
    for pair, sel in (mreport.get("selection") or {}).items():
        am = (mreport.get("article_matching") or {}).get(pair, {})
        funnel.append({"pair": pair, "stage": "article matches", "in": am.get("source_articles"),
                       "out": am.get("matches"), "dropped": None})
        funnel.append({"pair": pair, "stage": "candidate sentence pairs", "in": None,
                       "out": (mreport.get("candidates") or {}).get(pair, {}).get("candidates"), "dropped": None})
        funnel += [{"pair": pair, "stage": s["filter"], "in": s["in"], "out": s["out"], "dropped": s["dropped"]}
                   for s in sel.get("steps", [])]
    quality = []
    mq = context.get("mining_quality") or {}
    for pair, m in (mq.get("pairs") or {}).items():
        am = (mq.get("article_matching") or {}).get(pair, {}).get("sentence_stage_threshold", {})
        quality.append({"pair": pair, "precision": m.get("precision"), "recall": m.get("recall"),
                        "F1": m.get("f1"), "mined": m.get("mined", m.get("n_pred")),
                        "gold": m.get("gold", m.get("n_gold")), "article matching accuracy": am.get("accuracy")})
    examples = _example_pairs(mining_dir, mreport.get("scoring", "cosine"))
    score_name = examples.pop("_score", [{"name": "cos_sim"}])[0]["name"]
    scores = [{"task": r["task"], "subset": r["subset"], "protocol": r["protocol"], "n": r.get("n"),
               "base": _ci(r, "base") if "base" in r else None,
               "fine-tuned": _ci(r, "fine-tuned") if "fine-tuned" in r else None,
               "Δ": f"{r['delta']:+.3f}" if "delta" in r else None} for r in rows]
    provenance = []
    seen = set()
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
    charts = {"funnel": _funnel_chart(mreport, assets), "training": _training_chart(train_log, assets),
              "scores": _scores_chart(rows, assets)}
    histograms = sorted((mining_dir / "histograms").glob("*.png")) if (mining_dir / "histograms").is_dir() else []
    metrics = train_meta.get("metrics") or {}
    dev = {k: round(v, 4) for k, v in (metrics.get("dev") or {}).items() if isinstance(v, int | float)}
    train_rows = [{"key": k, "value": v} for k, v in (
        ("base model", context["base_model"]), ("fine-tuned model", str(model_dir)),
        ("fine-tuned model's name in results (folder@weights fingerprint)", context.get("finetuned_model_name")),
        ("loss", train_meta.get("loss")),
        ("pairs (train / held-out dev)", json.dumps(train_meta.get("pair_counts"))),
        ("dev retrieval after training", json.dumps(dev) if dev else None),
        ("training", json.dumps(metrics.get("train")) if metrics.get("train") else None))]

    # ---- markdown
    c = context
    md = [f"# {c['name']}: LuxEmbedder recipe report", "",
          f"Created {c['created']}. **Mining data:** {c['collection']['description']}. "
          f"**Evaluation data:** {c['eval_data']}.", ""]
    md += ["## What went in", "", _md_table(inputs, ["language", "articles in", "kept", "dropped", "first date",
                                                   "last date"]),
           "Sentences per language:", "", _md_table(sentences, ["language", "split", "kept", "dropped"])]
    md += ["## Mining funnel", "", _md_table(funnel, ["pair", "stage", "in", "dropped", "out"])]
    if charts["funnel"]:
        md.append(f"![funnel](report_assets/{charts['funnel'].name})\n")
    md += ["## Mining quality", ""]
    md += [_md_table(quality, ["pair", "precision", "recall", "F1", "mined", "gold", "article matching accuracy"])
           if quality else "_No gold alignments for this collection._\n"]
    md += ["## Example pairs", "", f"Scores: cosine and ratio margin; ordered by `{score_name}`.", ""]
    for kind, ex in examples.items():
        md += [f"**{kind}**", "", _md_table(ex, ["pair", "lb", "other", "cos_sim", "margin", "reason"])]
    md += ["## Training", "", _md_table(train_rows, ["key", "value"])]
    if charts["training"]:
        md.append(f"![training](report_assets/{charts['training'].name})\n")
    md += ["## Base vs fine-tuned", "", "Main score with 95% bootstrap confidence interval; Δ = fine-tuned − base.",
           "", _md_table(scores, ["task", "subset", "protocol", "n", "base", "fine-tuned", "Δ"])]
    if charts["scores"]:
        md.append(f"![scores](report_assets/{charts['scores'].name})\n")
    md += ["## Provenance", "", f"Models: base `{c['base_model']}`, fine-tuned `{model_dir}` (in results: "
           f"`{c.get('finetuned_model_name', model_dir.name)}`). Seeds: "
           f"{', '.join(seeds) or '–'}. Stage seconds: "
           + ", ".join(f"{k} {v:.1f}" for k, v in c["timings"].items()) + ".", "",
           _md_table(provenance, ["file", "sha256"]),
           "Versions: " + ", ".join(f"{k} {v}" for k, v in c["versions"].items()), "",
           "Configs: `recipe.yaml` (this run), `mine/config.yaml`, `<name>-finetuned/train_config.yaml`, "
           "`eval/eval_config.yaml`; all records in `eval/results.json`.", ""]
    md_path = atomic_write_text(out_dir / "report.md", "\n".join(md))

    # ---- html
    def section(title: str, body: str) -> str:
        return f'<section id="{title.lower().replace(" ", "-")}"><h2>{html.escape(title)}</h2>{body}</section>'

    def chart(key: str) -> str:
        return _img(charts[key]) if charts.get(key) else ""

    parts = [
        section("What went in", _html_table(inputs, ["language", "articles in", "kept", "dropped", "first date",
                                                     "last date"])
                + "<h3>Sentences</h3>" + _html_table(sentences, ["language", "split", "kept", "dropped"])),
        section("Mining funnel", chart("funnel") + _html_table(funnel, ["pair", "stage", "in", "dropped", "out"])
                + "".join(_img(h) for h in histograms)),
        section("Mining quality", _html_table(quality, ["pair", "precision", "recall", "F1", "mined", "gold",
                                                        "article matching accuracy"])
                if quality else "<p><em>No gold alignments for this collection.</em></p>"),
        section("Example pairs", f"<p>Ordered by <code>{score_name}</code>.</p>" + "".join(
            f"<h3>{html.escape(k)}</h3>" + _html_table(v, ["pair", "lb", "other", "cos_sim", "margin", "reason"])
            for k, v in examples.items())),
        section("Training", chart("training") + _html_table(train_rows, ["key", "value"])),
        section("Base vs fine-tuned", "<p>Main score with 95% bootstrap confidence interval; Δ = fine-tuned − "
                "base.</p>" + chart("scores")
                + _html_table(scores, ["task", "subset", "protocol", "n", "base", "fine-tuned", "Δ"])),
        section("Provenance", f"<p>Base <code>{html.escape(c['base_model'])}</code>, fine-tuned "
                f"<code>{html.escape(str(model_dir))}</code>; seeds {html.escape(', '.join(seeds) or '–')}; "
                "stage seconds " + html.escape(", ".join(f"{k} {v:.1f}" for k, v in c["timings"].items()))
                + "</p>" + _html_table(provenance, ["file", "sha256"]) + "<p>Versions: "
                + html.escape(", ".join(f"{k} {v}" for k, v in c["versions"].items())) + "</p>"),
    ]
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:.6em 0;font-size:13px}td,th{border:1px solid #ccc;"
             "padding:3px 7px;text-align:left;vertical-align:top}th{background:#f0f3f7}img{max-width:100%;"
             "margin:.5em 0}h2{border-bottom:2px solid #3b7dd8;padding-bottom:.2em;margin-top:1.6em}"
             ".lead{background:#f6f8fa;padding:.8em 1em;border-left:4px solid #3b7dd8}")
    doc = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(c['name'])} "
           f"report</title><style>{style}</style></head><body><h1>{html.escape(c['name'])}: LuxEmbedder recipe "
           f"report</h1><p class=\"lead\">Created {html.escape(c['created'])}.<br><b>Mining data:</b> "
           f"{html.escape(c['collection']['description'])}.<br><b>Evaluation data:</b> "
           f"{html.escape(c['eval_data'])}.</p>" + "".join(parts) + "</body></html>")
    html_path = atomic_write_text(out_dir / "report.html", doc)
    logger.info("report: %s", html_path)
    return md_path, html_path
