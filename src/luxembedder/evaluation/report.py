"""Reports from result records: Markdown and HTML tables (models side by side, difference to the first
model, 95% bootstrap intervals, paired significance by the one p-value convention of :mod:`.stats`) and bar charts as PNG. (MTEB-format export: :mod:`.mteb_export`.)"""

from __future__ import annotations

import base64
import html
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.stats import P_VALUE_CONVENTION, paired_test
from luxembedder.utils.io import atomic_write_text

logger = logging.getLogger(__name__)


def _models(records: list[ResultRecord]) -> list[str]:
    return list(dict.fromkeys(r.model for r in records))


def _grouped(records: list[ResultRecord]) -> dict[str, dict[tuple[str, str], dict[str, ResultRecord]]]:
    """task -> (subset, protocol) -> model -> record, in first-seen order."""
    out: dict[str, dict[tuple[str, str], dict[str, ResultRecord]]] = defaultdict(dict)
    for r in records:
        out[r.task].setdefault((r.subset, r.protocol), {})[r.model] = r
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _delta(base: ResultRecord | None, rec: ResultRecord, seed: int = 0) -> str:
    if base is None or base is rec:
        return ""
    d = 100 * (rec.main_score - base.main_score)
    mark = ""
    if base.items is not None and rec.items is not None and len(base.items) == len(rec.items) and rec.items:
        mark = "*" if paired_test(base.items, rec.items, n=1000, seed=seed).p_value < 0.05 else ""
    return f" ({d:+.1f}{mark})"


def _cell(rec: ResultRecord | None, base: ResultRecord | None) -> str:
    if rec is None:
        return "–"
    ci = f" [{_pct(rec.ci95[0])}–{_pct(rec.ci95[1])}]" if rec.ci95 else ""
    return f"{_pct(rec.main_score)}{ci}{_delta(base, rec)}"


def table_rows(records: list[ResultRecord]) -> tuple[list[str], list[dict[str, str]]]:
    """Rows ``{task, subset, protocol, n, <model>...}`` with formatted scores (percent)."""
    models = _models(records)
    rows = []
    for task, groups in _grouped(records).items():
        for (subset, protocol), by_model in groups.items():
            base = by_model.get(models[0])
            n = next(iter(by_model.values())).n
            row = {"task": task, "subset": subset, "protocol": protocol, "n": str(n)}
            for m in models:
                row[m] = _cell(by_model.get(m), base)
            rows.append(row)
    return ["task", "subset", "protocol", "n", *models], rows


def markdown_table(records: list[ResultRecord]) -> str:
    cols, rows = table_rows(records)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(r[c].replace("|", "\\|") for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name)[:80]


def bar_chart(task: str, records: list[ResultRecord], path: Path) -> Path | None:
    """Grouped horizontal bars: one group per (subset, protocol), one bar per model, CI as error bars."""
    from luxembedder.utils.plotting import pyplot, save_png

    plt = pyplot()
    groups = _grouped(records).get(task)
    if not groups:
        return None
    models = _models(records)
    keys = list(groups)
    height = 0.8 / max(1, len(models))
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.35 * len(keys) * max(1, len(models)) ** 0.7))
    y = np.arange(len(keys))
    for i, m in enumerate(models):
        recs = [groups[k].get(m) for k in keys]
        vals = np.array([100 * r.main_score if r else np.nan for r in recs])
        lo = np.array([100 * (r.main_score - r.ci95[0]) if r and r.ci95 else 0 for r in recs])
        hi = np.array([100 * (r.ci95[1] - r.main_score) if r and r.ci95 else 0 for r in recs])
        ax.barh(y + i * height, vals, height, xerr=np.vstack([lo, hi]), label=m, capsize=2)
    ax.set_yticks(y + height * (len(models) - 1) / 2)
    ax.set_yticklabels([f"{s}\n{p[:48]}" if len(groups) < 8 else s for s, p in keys], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("main score (%), 95% bootstrap CI")
    ax.set_title(task)
    ax.set_xlim(0, 100)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return save_png(fig, path, dpi=110)


def write_reports(records: list[ResultRecord], out_dir: str | Path, title: str = "luxembedder evaluation") -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``charts/<task>.png``; returns their paths."""
    out = Path(out_dir)
    models = _models(records)
    tasks = list(_grouped(records))
    charts = {t: bar_chart(t, records, out / "charts" / f"{_safe(t)}.png") for t in tasks}
    intro = (f"Models: {', '.join(models)}. Scores in percent: main score [95% bootstrap CI] "
             f"(difference to {models[0] if models else '-'} in points; * = p < 0.05, {P_VALUE_CONVENTION}). "
             "Every row names its protocol.\n")
    md = [f"# {title}\n", intro]
    htm = [f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
           "padding:3px 6px;font-size:13px}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
           f"<p>{html.escape(intro)}</p>"]
    for t in tasks:
        sub = [r for r in records if r.task == t]
        md.append(f"\n## {t}\n")
        md.append(markdown_table(sub))
        if charts.get(t):
            md.append(f"\n![{t}](charts/{charts[t].name})\n")
        cols, rows = table_rows(sub)
        htm.append(f"<h2>{html.escape(t)}</h2><table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols)
                   + "</tr>")
        htm += ["<tr>" + "".join(f"<td>{html.escape(r[c])}</td>" for c in cols) + "</tr>" for r in rows]
        htm.append("</table>")
        if charts.get(t):
            b64 = base64.b64encode(charts[t].read_bytes()).decode()
            htm.append(f"<p><img alt='{html.escape(t)}' src='data:image/png;base64,{b64}'></p>")
    htm.append("</body></html>")
    paths = {"md": atomic_write_text(out / "report.md", "\n".join(md)),
             "html": atomic_write_text(out / "report.html", "\n".join(htm))}
    paths.update({f"chart:{t}": p for t, p in charts.items() if p})
    return paths


def summary_rows(records: list[ResultRecord]) -> list[dict[str, Any]]:
    """Flat rows for the CLI: model, task, subset, protocol, main score (%), CI."""
    return [{"model": r.model, "task": r.task, "subset": r.subset, "protocol": r.protocol,
             "score": round(100 * r.main_score, 1),
             "ci95": f"{_pct(r.ci95[0])}–{_pct(r.ci95[1])}" if r.ci95 else "", "n": r.n} for r in records]

