"""Merging independent shard runs, and scoring a run against the NTREX comparable benchmark.

Spreading a large archive over machines
---------------------------------------
1. Split the publication period into date ranges, one per machine (or process), e.g. by quarter.
2. On each machine run the same config with ``shard: {start, end}`` (CLI: ``--shard START:END``), pointing
   at the full article files (or at least the articles of ``[start - 2N, end + 2N]``, N = window days). A
   shard uses the lb articles of its range as sources and every article within the padded range as
   match targets and margin neighbour pool, so its candidates equal a full run's for those sources.
3. Copy the run directories to one machine and call :func:`merge_runs` (CLI: ``luxembedder merge-runs``).
   It takes every candidate that passed all per-candidate decisions and filters (scorer, length ratio,
   near copy) in its shard, drops candidates seen in two shards, and re-applies the global steps (exact
   dedup, greedy one-to-one, leakage exclusion) over the union, so the merged pairs equal those of a
   single run over the whole period (with ``margin`` scoring in ``backward``/``max``/``intersection``
   mode, the per-target retrieval decision is taken inside each shard, an approximation at shard edges).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.datasets.ntrex import evaluate_article_matches, evaluate_mined_pairs, load_gold
from luxembedder.errors import ConfigError, MissingDataError
from luxembedder.mining.card import write_dataset_card
from luxembedder.mining.config import MiningConfig
from luxembedder.mining.filters import RECHECKED_REASONS, apply_filters
from luxembedder.mining.select import leakage_index, pair_filter_steps, resolve_leakage_files
from luxembedder.mining.store import PAIR_COLUMNS, py_value, read_parquet, write_parquet
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.io import (
    atomic_directory,
    atomic_write_json,
    atomic_write_text,
    read_table,
    sha256_file,
    write_jsonl,
)
from luxembedder.utils.provenance import now_iso, versions

logger = logging.getLogger(__name__)

def _read_candidates(run: Path) -> dict[str, np.ndarray]:
    path = run / "candidates.parquet"
    if not path.is_file():
        raise MissingDataError(f"{run}: no candidates.parquet (is this a finished mining run?)")
    return read_parquet(path)


def _with_scope(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``drop_scope`` per candidate; for tables written before filters declared their scope, from the reason
    (the ``across``/``run`` filters' reasons, :data:`RECHECKED_REASONS`; any other drop was per candidate)."""
    if "drop_scope" not in table:
        reason = table["reason"].astype(object)
        rechecked = np.isin(reason, np.array(sorted(RECHECKED_REASONS), dtype=object))
        table["drop_scope"] = np.where(reason == "", "", np.where(rechecked, "across", "candidate")).astype(object)
    return table


def merge_runs(run_dirs: list[str | Path], out_dir: str | Path, settings: Settings | None = None) -> dict[str, Any]:
    """Merge shard runs into ``out_dir`` (pairs/, candidates.parquet, report.json/md); returns the report."""
    settings = settings or get_settings()
    runs = [Path(r) for r in run_dirs]
    if not runs:
        raise ConfigError("merge-runs needs at least one run directory")
    cfg = MiningConfig.from_yaml(runs[0] / "config.yaml")
    for r in runs[1:]:
        other = MiningConfig.from_yaml(r / "config.yaml")
        if other.section_hash("embedding", "scoring", "filters", "pairs") != \
                cfg.section_hash("embedding", "scoring", "filters", "pairs"):
            raise ConfigError(f"{r}: its embedding/scoring/filters/pairs config differs from {runs[0]}")
    tables = [_with_scope(_read_candidates(r)) for r in runs]
    cols = list(tables[0])
    merged = {c: np.concatenate([t[c] for t in tables]) for c in cols}
    # rows dropped by a per-candidate filter stay dropped; kept rows and rows dropped by a filter whose decision
    # depends on the other candidates or on the run's lists are re-decided on the union of the shards
    survivors = merged["drop_scope"].astype(object) != "candidate"
    n_in = int(survivors.sum())
    merged = {c: v[survivors] for c, v in merged.items()}
    keys = np.array([f"{p}\x00{a}\x00{b}" for p, a, b in zip(merged["lang_pair"], merged["sentence_id_1"],
                                                           merged["sentence_id_2"], strict=True)], dtype=object)
    _, first = np.unique(keys, return_index=True)
    first = np.sort(first)
    n_cross_dups = n_in - len(first)
    merged = {c: v[first] for c, v in merged.items()}

    leak = leakage_index(cfg, resolve_leakage_files(cfg, settings))
    keep_all = np.zeros(len(first), dtype=bool)
    reason_all = np.full(len(first), "", dtype=object)
    scope_all = np.full(len(first), "", dtype=object)
    pairs_info: dict[str, Any] = {}
    rows_by_pair: dict[str, list[dict[str, Any]]] = {}
    for pair in cfg.pairs:
        idx = np.flatnonzero(merged["lang_pair"] == pair)
        t1 = merged["text_1"][idx].astype(object)
        t2 = merged["text_2"][idx].astype(object)
        score = (merged["margin"] if cfg.scoring.method == "margin" else merged["cos_sim"])[idx].astype(np.float64)
        f = cfg.filters.model_copy()
        steps = pair_filter_steps(cfg.model_copy(update={"filters": f.model_copy(
            update={"length_ratio": None, "overlap": None})}), t1, t2, score, leak)
        keep, why, scope, counts = apply_filters(len(idx), steps)
        keep_all[idx] = keep
        reason_all[idx] = why
        scope_all[idx] = scope
        kept = idx[keep]
        kept = kept[np.lexsort((kept, -np.nan_to_num(score[keep], nan=-np.inf)))]
        rows_by_pair[pair] = [{k: py_value(merged[k][i]) for k in PAIR_COLUMNS} for i in kept]
        pairs_info[pair] = {"candidates_in": len(idx), "final": len(kept), "steps": counts}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_directory(out / "pairs") as pdir:
        for pair, rows in rows_by_pair.items():
            write_jsonl(pdir / f"{pair}.jsonl", rows)
            write_parquet(pdir / f"{pair}.parquet", {k: [r[k] for r in rows] for k in PAIR_COLUMNS})
    merged["accepted"] = keep_all
    merged["reason"] = reason_all
    merged["drop_scope"] = scope_all
    write_parquet(out / "candidates.parquet", {k: (v.tolist() if v.dtype == object else v)
                                                for k, v in merged.items()})
    cfg.save(out / "config.yaml")
    report = {"pipeline": "luxalign-merge", "created": now_iso(), "runs": [str(r) for r in runs],
              "pairs": cfg.pairs, "candidates_passing_shard_filters": n_in,
              "duplicates_across_shards": n_cross_dups, "selection": pairs_info,
              "final_pairs": {p: v["final"] for p, v in pairs_info.items()}, "versions": versions()}
    atomic_write_json(out / "report.json", report)
    md = ["# Merged mining runs", "", *[f"- {r}" for r in runs], "",
          f"Candidates passing shard filters: {n_in}; duplicates across shards: {n_cross_dups}", "",
          "| pair | in | final |", "|---|---|---|"]
    md += [f"| {p} | {v['candidates_in']} | {v['final']} |" for p, v in pairs_info.items()]
    atomic_write_text(out / "report.md", "\n".join(md) + "\n")

    write_dataset_card(out, report, cfg)
    logger.info("merged %d runs: %s", len(runs), report["final_pairs"])
    return report


def evaluate_run(run_dir: str | Path, benchmark_dir: str | Path) -> dict[str, Any]:
    """P/R/F1 of a run's pairs and accuracy of its article matching against a comparable benchmark's
    ``gold.jsonl``; written to ``<run>/evaluation.json``."""

    run, bench = Path(run_dir), Path(benchmark_dir)
    gold_path = bench / "gold.jsonl" if bench.is_dir() else bench
    if not gold_path.is_file():
        raise MissingDataError(f"gold file not found: {gold_path}")
    gold = load_gold(gold_path)
    cfg = MiningConfig.from_yaml(run / "config.yaml")
    out: dict[str, Any] = {"run": str(run), "gold": {"path": str(gold_path), "sha256": sha256_file(gold_path)},
                           "scoring": cfg.scoring.method, "pairs": {}, "article_matching": {}}
    for pair in cfg.pairs:
        pf = run / "pairs" / f"{pair}.jsonl"
        rows = read_table(pf) if pf.is_file() and pf.stat().st_size else []
        out["pairs"][pair] = evaluate_mined_pairs(rows, gold, pair)
        mf = run / "stages" / "match" / f"{pair}.parquet"
        if mf.is_file():
            m = read_parquet(mf)
            res = {}
            for name, thr in (("article_threshold", cfg.matching.article_threshold),
                              ("sentence_stage_threshold", cfg.matching.sentence_stage_threshold)):
                sel = m["cos"] >= thr
                matches = [{"lb_id": str(a), "other_id": str(b)} for a, b in
                           zip(m["article_id_1"][sel], m["article_id_2"][sel], strict=True)]
                res[name] = {"threshold": thr, **evaluate_article_matches(matches, gold, pair)}
            out["article_matching"][pair] = res
    atomic_write_json(run / "evaluation.json", out, skip_if_same=True)  # a rerun writes nothing
    return out
