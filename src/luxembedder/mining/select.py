"""The ``select`` stage: accept decisions and filters over stored candidate scores, then the run's outputs.

Steps per language pair, in the paper's order, each counted: article-pair threshold for the sentence
stage (paper: 0.65) → scorer decision (cosine ≥ 0.70, or margin retrieval + threshold) → length ratio →
near-copy overlap → exact duplicates → greedy one-to-one → leakage exclusion.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.errors import MissingDataError
from luxembedder.mining.config import MiningConfig
from luxembedder.mining.filters import (
    FilterResult,
    LeakageIndex,
    apply_filters,
    apply_in_order,
    exact_duplicates,
    length_ratio,
    near_copy,
    one_to_one,
    paraphrase_candidates,
    paraphrase_steps,
)
from luxembedder.mining.scoring import Candidates, make_scorer
from luxembedder.mining.store import PAIR_COLUMNS, py_value, read_parquet, write_parquet
from luxembedder.settings import Settings
from luxembedder.utils.io import atomic_directory, write_jsonl
from luxembedder.utils.plotting import pyplot, save_png

logger = logging.getLogger(__name__)


def resolve_leakage_files(cfg: MiningConfig, settings: Settings) -> list[Path]:
    """Leakage lists: the configured files, or the ParaLux sentence list of the data directory if present."""
    files = list(cfg.filters.leakage_files) if cfg.filters.leakage_files is not None else []
    if cfg.filters.leakage_files is None and settings.data_dir is not None:
        default = settings.data_dir / "paralux_texts" / "benchmark_texts.txt"
        if default.is_file():
            files.append(default)
    files += list(cfg.filters.extra_eval_files)
    for f in files:
        if not Path(f).is_file():
            raise MissingDataError(f"leakage file not found: {f}")
    return [Path(f) for f in files]


def leakage_index(cfg: MiningConfig, files: list[Path], texts: list[str] | None = None) -> LeakageIndex:
    idx = LeakageIndex(texts or (), normalize=cfg.filters.leakage_normalize)
    for f in files:
        idx.add_file(f)
    return idx


def pair_filter_steps(cfg: MiningConfig, t1: np.ndarray, t2: np.ndarray, score: np.ndarray,
                      leak: LeakageIndex | None) -> list:
    """The post-decision filters of the paper as :func:`apply_in_order` steps."""
    f = cfg.filters
    steps: list = []
    if f.length_ratio is not None:
        steps.append(lambda a: length_ratio(t1[a], t2[a], f.length_ratio))
    if f.overlap is not None:
        steps.append(lambda a: near_copy(t1[a], t2[a], f.overlap))
    if f.exact_dedup:
        steps.append(lambda a: exact_duplicates(t1[a], t2[a], score[a]))
    if f.one_to_one:
        steps.append(lambda a: one_to_one(t1[a], t2[a], score[a]))
    if leak is not None and len(leak):
        steps.append(lambda a: leak.filter(t1[a], t2[a]))
    return steps


def _histogram(path: Path, pair: str, cos: np.ndarray, margin: np.ndarray, accepted: np.ndarray) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, vals, name in ((axes[0], cos, "cosine"), (axes[1], margin, "margin")):
        v = vals[np.isfinite(vals)]
        if len(v):
            bins = np.linspace(float(v.min()), float(v.max()) + 1e-6, 60)
            ax.stairs(np.histogram(v, bins)[0], bins, fill=True, alpha=0.5, label="all candidates")
            acc = vals[accepted & np.isfinite(vals)]
            ax.stairs(np.histogram(acc, bins)[0], bins, label="final pairs")
            ax.set_yscale("symlog")
        ax.set_title(f"{pair}: {name}")
        ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.15)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path, dpi=90)


def select_pairs(run_dir: Path, tmp: Path, cfg: MiningConfig, arts: dict[str, np.ndarray],
                 sents: dict[str, np.ndarray], views: dict[str, Any], s_emb: dict[str, np.ndarray],
                 match_dir: Path, score_dir: Path, leak_files: list[Path]) -> dict[str, Any]:
    """Decide, filter and write ``pairs/``, ``candidates.parquet`` and histograms. Returns stage info."""
    scorer = make_scorer(cfg.scoring)
    leak = leakage_index(cfg, leak_files)
    texts = sents["text"].astype(object)
    sids = sents["sentence_id"].astype(object)
    info: dict[str, Any] = {"pairs": {}, "leakage_texts": len(leak)}
    cand_tables: list[dict[str, Any]] = []
    pair_rows: dict[str, list[dict[str, Any]]] = {}
    hist: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
    for pair in cfg.pairs:
        sl, tl = pair.split("-")
        vs, vt = views[sl], views[tl]
        m = read_parquet(match_dir / f"{pair}.parquet")
        s = read_parquet(score_dir / f"{pair}.parquet")
        c = Candidates(s["pair"].astype(np.int64), s["src"].astype(np.int64), s["tgt"].astype(np.int64),
                       s["cos"].astype(np.float32), s["knn_src"].astype(np.float32),
                       s["knn_tgt"].astype(np.float32))
        margin = c.margin
        art_cos = m["cos"][c.pair].astype(np.float32) if len(c) else np.zeros(0, np.float32)
        t1 = texts[vs.sent_rows[c.src]]
        t2 = texts[vt.sent_rows[c.tgt]]
        score = margin if cfg.scoring.method == "margin" else c.cos
        thr = cfg.matching.sentence_stage_threshold

        def article_step(a: np.ndarray, art_cos=art_cos, thr=thr) -> FilterResult:
            return FilterResult("article_threshold", art_cos[a] >= thr, f"article-cos<{thr:g}")

        def decision_step(a: np.ndarray, c=c) -> FilterResult:
            d = scorer.accept(c.take(a))
            return FilterResult(f"{scorer.name}_decision", d.keep, d.reason)

        steps = [article_step, decision_step, *pair_filter_steps(cfg, t1, t2, score, leak)]
        keep, reason, scope, step_counts = apply_filters(len(c), steps)
        a1 = m["article_id_1"].astype(object)[c.pair] if len(c) else np.zeros(0, object)
        a2 = m["article_id_2"].astype(object)[c.pair] if len(c) else np.zeros(0, object)
        sid1 = sids[vs.sent_rows[c.src]]
        sid2 = sids[vt.sent_rows[c.tgt]]
        cand_tables.append({
            "lang_pair": np.full(len(c), pair, dtype=object), "text_1": t1, "text_2": t2,
            "cos_sim": c.cos, "margin": margin, "article_cos": art_cos, "article_id_1": a1, "article_id_2": a2,
            "sentence_id_1": sid1, "sentence_id_2": sid2, "accepted": keep, "reason": reason,
            "drop_scope": scope})
        kept = np.flatnonzero(keep)
        # final pairs ordered by score, best first
        kept = kept[np.lexsort((kept, -np.nan_to_num(score[kept].astype(np.float64), nan=-np.inf)))]
        cols = {"text_1": t1, "text_2": t2, "cos_sim": c.cos, "margin": margin, "article_id_1": a1,
                "article_id_2": a2, "sentence_id_1": sid1, "sentence_id_2": sid2}
        pair_rows[pair] = [{k: _py(cols[k][i]) for k in PAIR_COLUMNS} for i in kept]
        hist.append((pair, c.cos, margin, keep))
        accepted = next((x["out"] for x in step_counts if x["filter"].endswith("_decision")), 0)
        info["pairs"][pair] = {"candidates": len(c), "accepted": accepted, "final": len(kept),
                               "steps": step_counts}
        logger.info("select %s: %d candidates -> %d pairs", pair, len(c), len(kept))

    para_rows = None
    if cfg.filters.paraphrases:
        para_rows, info["paraphrases"] = _paraphrases(cfg, views, s_emb, texts, sids, arts, leak)

    with atomic_directory(run_dir / "pairs") as pdir:
        for pair, rows in pair_rows.items():
            write_jsonl(pdir / f"{pair}.jsonl", rows)
            write_parquet(pdir / f"{pair}.parquet", {k: [r[k] for r in rows] for k in PAIR_COLUMNS})
        if para_rows is not None:
            src = cfg.pairs[0].split("-")[0]
            write_jsonl(pdir / f"{src}-{src}.jsonl", para_rows)
    if cand_tables:
        merged = {k: np.concatenate([t[k] for t in cand_tables]) for k in cand_tables[0]}
        merged = {k: (v.tolist() if v.dtype == object else v) for k, v in merged.items()}
        write_parquet(run_dir / "candidates.parquet", merged)
    for pair, cos, margin, keep in hist if cfg.histograms else []:
        _histogram(run_dir / "histograms" / f"{pair}.png", pair, cos, margin, keep)
    info["summary"] = ", ".join(f"{p}: {v['final']} pairs" for p, v in info["pairs"].items())
    return info


def _paraphrases(cfg, views, s_emb, texts, sids, arts, leak) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    f = cfg.filters
    lang = cfg.pairs[0].split("-")[0]
    v = views[lang]
    emb = np.asarray(s_emb[lang], dtype=np.float32)
    i, j, cos = paraphrase_candidates(emb, v.offsets, f.paraphrase_min_cos, f.paraphrase_max_cos)
    t1, t2 = texts[v.sent_rows[i]], texts[v.sent_rows[j]]
    steps = paraphrase_steps(t1, t2, cos, f.paraphrase_length_ratio, f.paraphrase_max_shared,
                             f.paraphrase_min_unshared)
    if len(leak):
        steps.append(lambda a: leak.filter(t1[a], t2[a]))
    keep, _, counts = apply_in_order(len(cos), steps)
    art_of = np.searchsorted(v.offsets, i, side="right") - 1
    rows = [{"text_1": str(t1[k]), "text_2": str(t2[k]), "cos_sim": float(cos[k]),
             "article_id": str(v.art_ids[art_of[k]]), "sentence_id_1": str(sids[v.sent_rows[i[k]]]),
             "sentence_id_2": str(sids[v.sent_rows[j[k]]])} for k in np.flatnonzero(keep)]
    return rows, {"language": lang, "candidates": len(cos), "final": len(rows), "steps": counts}


_py = py_value  # the earlier name
