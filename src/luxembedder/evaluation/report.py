"""Reports from result records (``report.md``, ``report.html`` and ``charts/<task>.png``), the tables of
``luxembedder results table`` (rich, md, csv, json, latex) and the MTEB-format export.

Numbers follow the convention of :mod:`luxembedder.utils.report`: percent with one decimal, the 95%
bootstrap interval in brackets, and for every model after the first a Δ column with the paired difference to
the first model, its 95% interval and the p-value of the named paired test over the same items.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.stats import paired_test
from luxembedder.utils import report as R
from luxembedder.utils.plotting import legend_outside, pyplot, save_png

logger = logging.getLogger(__name__)

PAIRED_TEST = "paired test (exact McNemar for 0/1 items, else sign-flip permutation; bootstrap interval)"
"""The paired comparison behind every Δ (:func:`luxembedder.evaluation.stats.paired_test`); each Δ cell names
the test actually used."""

TABLE_FORMATS = ("rich", "md", "csv", "json", "latex")


def _models(records: list[ResultRecord]) -> list[str]:
    return list(dict.fromkeys(r.model for r in records))


def _grouped(records: list[ResultRecord]) -> dict[str, dict[tuple[str, str], dict[str, ResultRecord]]]:
    """task -> (subset, protocol) -> model -> record, in first-seen order."""
    out: dict[str, dict[tuple[str, str], dict[str, ResultRecord]]] = defaultdict(dict)
    for r in records:
        out[r.task].setdefault((r.subset, r.protocol), {})[r.model] = r
    return out


def paired_delta(
    base: ResultRecord | None, rec: ResultRecord | None, n_resamples: int = 1000, seed: int = 0,
) -> dict[str, Any] | None:
    """``rec − base`` as fractions: ``{diff, low, high, p_value, test, n_resamples}`` from the paired test over the
    same items, or ``{diff, note}`` when the records carry no per-item scores of the same items."""
    if base is None or rec is None or base is rec:
        return None
    diff = rec.main_score - base.main_score
    if base.items is None or rec.items is None:
        return {"diff": diff, "note": "unpaired", "reason": "no per-item scores"}
    if len(base.items) != len(rec.items) or not rec.items:
        return {"diff": diff, "note": "unpaired", "reason": f"different items ({len(base.items)} vs {len(rec.items)})"}
    res = paired_test(base.items, rec.items, n=n_resamples, seed=seed)
    return {"diff": res.diff, "low": res.low, "high": res.high, "p_value": res.p_value, "test": res.test,
            "n_resamples": n_resamples}


def _delta_col(model: str, base: str) -> str:
    return f"Δ {model} − {base}"


def table_rows(records: list[ResultRecord], n_resamples: int = 1000) -> tuple[list[str], list[dict[str, str]]]:
    """Rows ``{task, subset, protocol, n, <model>..., Δ <model> − <first>...}`` formatted by the report
    convention (percent, one decimal, CI in brackets, Δ with the paired test)."""
    models = _models(records)
    deltas = [_delta_col(m, models[0]) for m in models[1:]]
    rows = []
    for task, groups in _grouped(records).items():
        for (subset, protocol), by_model in groups.items():
            base = by_model.get(models[0])
            n = next(iter(by_model.values())).n
            row = {"task": task, "subset": subset, "protocol": protocol, "n": R.count(n)}
            for m in models:
                rec = by_model.get(m)
                row[m] = R.score(rec.main_score, rec.ci95) if rec else R.DASH
            for m, col in zip(models[1:], deltas, strict=True):
                row[col] = R.delta(paired_delta(base, by_model.get(m), n_resamples))
            rows.append(row)
    return ["task", "subset", "protocol", "n", *models, *deltas], rows


def long_rows(records: list[ResultRecord], n_resamples: int = 1000) -> list[dict[str, Any]]:
    """One machine-readable row per record (numbers in percent, rounded to one decimal; Δ to the first model
    with the paired test's interval and p-value) for ``--format csv|json``."""
    models = _models(records)
    out = []
    for task, groups in _grouped(records).items():
        for (subset, protocol), by_model in groups.items():
            base = by_model.get(models[0])
            for m in models:
                r = by_model.get(m)
                if r is None:
                    continue
                d = paired_delta(base, r, n_resamples) or {}
                rnd = (lambda v: None if v is None else round(100 * v, 1))  # noqa: E731
                out.append({
                    "model": m, "task": task, "subset": subset, "protocol": protocol, "n": r.n,
                    "main_metric": r.main_metric, "score": rnd(r.main_score),
                    "ci95_low": rnd(r.ci95[0]) if r.ci95 else None, "ci95_high": rnd(r.ci95[1]) if r.ci95 else None,
                    "baseline": models[0] if d else None, "delta": rnd(d.get("diff")),
                    "delta_ci95_low": rnd(d.get("low")), "delta_ci95_high": rnd(d.get("high")),
                    "p_value": None if d.get("p_value") is None else round(d["p_value"], 4),
                    "test": d.get("test") or (d.get("note") if d else None),
                })
    return out


def markdown_table(records: list[ResultRecord], n_resamples: int = 1000) -> str:
    cols, rows = table_rows(records, n_resamples)
    return R.render("table.md.j2", table=R.table(rows, cols))


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                  "Δ": r"$\Delta$", "−": "--", "–": "--"}


def latex_escape(s: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(s))


def format_table(records: list[ResultRecord], fmt: str, n_resamples: int = 1000) -> str:
    """The results as ``md`` (models side by side), ``latex`` (a booktabs tabular), ``csv`` or ``json``
    (one row per record, see :func:`long_rows`)."""
    if fmt == "md":
        return markdown_table(records, n_resamples)
    if fmt == "latex":
        cols, rows = table_rows(records, n_resamples)
        return R.render("table.tex.j2", columns=[latex_escape(c) for c in cols],
                        rows=[[latex_escape(r[c]) for c in cols] for r in rows])
    rows = long_rows(records, n_resamples)
    if fmt == "json":
        return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["model"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()
    raise ValueError(f"unknown table format {fmt!r} (choose from {', '.join(TABLE_FORMATS)})")


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name)[:80]


def _group_labels(keys: list[tuple[str, str]]) -> list[str]:
    """Distinct tick labels: subset and protocol (shortened only while labels stay distinct)."""
    for width in (40, 80, 400):
        labels = [f"{s}\n{p if len(p) <= width else p[: width - 1] + '…'}" for s, p in keys]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{lab} ({i + 1})" for i, lab in enumerate(labels)]


def bar_chart(task: str, records: list[ResultRecord], path: Path) -> Path | None:
    """Grouped horizontal bars: one group per (subset, protocol) labelled with both, one bar per model, the 95%
    CI as error bars, the legend outside the data."""
    plt = pyplot()
    groups = _grouped(records).get(task)
    if not groups:
        return None
    models = _models(records)
    keys = list(groups)
    height = 0.8 / max(1, len(models))
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * len(keys) * max(1, len(models)) ** 0.7))
    y = np.arange(len(keys))
    for i, m in enumerate(models):
        recs = [groups[k].get(m) for k in keys]
        vals = np.array([100 * r.main_score if r else np.nan for r in recs])
        lo = np.array([100 * (r.main_score - r.ci95[0]) if r and r.ci95 else 0 for r in recs])
        hi = np.array([100 * (r.ci95[1] - r.main_score) if r and r.ci95 else 0 for r in recs])
        ax.barh(y + i * height, vals, height, xerr=np.clip(np.vstack([lo, hi]), 0, None), label=m, capsize=2)
    ax.set_yticks(y + height * (len(models) - 1) / 2)
    ax.set_yticklabels(_group_labels(keys), fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("main score (%), error bars: 95% bootstrap CI")
    ax.set_ylabel("subset / protocol")
    ax.set_title(task)
    ax.set_xlim(0, 100)
    legend_outside(ax, title="model")
    return save_png(fig, path, dpi=110)


def _bootstrap_resamples(out: Path) -> int | None:
    """The number of resamples behind the CIs, from the ``eval_config.yaml`` the runner saved beside them."""
    import yaml

    path = out / "eval_config.yaml"
    if not path.is_file():
        return None
    try:
        return int(((yaml.safe_load(path.read_text()) or {}).get("eval") or {}).get("bootstrap_samples"))
    except (TypeError, ValueError, yaml.YAMLError):
        return None


def write_reports(
    records: list[ResultRecord], out_dir: str | Path, title: str = "luxembedder evaluation",
    n_resamples: int = 1000, ci_resamples: int | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``charts/<task>.png``; returns their paths.

    ``n_resamples``: resamples of the paired test behind each Δ; ``ci_resamples``: those behind the stored 95%
    intervals (default: read from ``eval_config.yaml`` in ``out_dir``), stated in the report.
    """
    out = Path(out_dir)
    models = _models(records)
    tasks = list(_grouped(records))
    charts = {t: bar_chart(t, records, out / "charts" / f"{_safe(t)}.png") for t in tasks}
    ci_resamples = ci_resamples or _bootstrap_resamples(out)
    doc = R.Document(title)
    doc.add_lead(", ".join(models) or R.DASH, "Models")
    doc.add_lead("main score in percent (one decimal) with its 95% bootstrap confidence interval over items in "
                 "brackets" + (f" ({ci_resamples:,} resamples)" if ci_resamples else "") + ".", "Scores")
    if len(models) > 1:
        doc.add_lead(f"difference to {models[0]} in percentage points, its 95% interval in brackets and the "
                     f"two-sided p-value of a {PAIRED_TEST} over the same items ({n_resamples:,} resamples); "
                     "'unpaired' where the records carry no per-item scores (no interval, no test).", "Δ")
    doc.add_lead("every row names its protocol (subset, templates, scoring).", "Protocols")
    for t in tasks:
        sub = [r for r in records if r.task == t]
        cols, rows = table_rows(sub, n_resamples)
        s = doc.section(t).table(rows, cols[1:])  # the section names the task
        s.figure(charts.get(t), out, f"{t}: main score per subset and protocol (95% bootstrap CI)")
    paths = doc.write(out)
    paths.update({f"chart:{t}": p for t, p in charts.items() if p})
    return paths


def summary_rows(records: list[ResultRecord]) -> list[dict[str, Any]]:
    """Flat rows for the CLI: model, task, subset, protocol, "main score [95% CI]" in percent, n."""
    return [{"model": r.model, "task": r.task, "subset": r.subset, "protocol": r.protocol,
             "score [95% CI]": R.score(r.main_score, r.ci95), "n": R.count(r.n)} for r in records]

