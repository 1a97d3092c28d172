"""Paired comparison of two models' results on the same items (``luxembedder results compare``).

A difference in mean score between two models is only meaningful relative to its uncertainty. Both models
were scored on the same test items, so the interval comes from a *paired* bootstrap over items (and a
a paired p-value by the toolkit's one convention, :data:`~luxembedder.evaluation.stats.P_VALUE_CONVENTION`:
exact McNemar for 0/1 items, sign-flip permutation otherwise), which is much narrower than comparing two
independent intervals. Records
must carry per-item scores (``EvalSettings.keep_items``, the default of ``luxembedder eval``; ``luxembedder
results copy`` drops them unless ``--keep-items``).
"""

from __future__ import annotations

from typing import Any

from luxembedder.errors import ConfigError
from luxembedder.evaluation.results import ResultRecord, resolve_model_name
from luxembedder.evaluation.stats import P_VALUE_CONVENTION, paired_test


def compare_models(
    records: list[ResultRecord], baseline: str, model: str, tasks: list[str] | None = None,
    n_resamples: int = 2000, seed: int = 0, source: str = "results",
) -> list[dict[str, Any]]:
    """One row per (task, subset, protocol) that both models have (names as in the results, or their folder part
    before ``@``): scores, ``model - baseline`` with its 95%
    paired-bootstrap interval, in percentage points, and the paired p-value with the test's name
    (``test``: exact McNemar for 0/1 items, sign-flip permutation otherwise).

    Rows whose records lack per-item scores, or whose items differ in number, get ``None`` for the interval
    and p-values and a ``note`` saying why. Raises :class:`ConfigError` for an unknown model or task.
    """
    baseline, model = (resolve_model_name(records, m, source) for m in (baseline, model))
    by_key: dict[tuple[str, str, str], dict[str, ResultRecord]] = {}
    for r in records:
        if tasks and r.task not in tasks:
            continue
        by_key.setdefault((r.task, r.subset, r.protocol), {})[r.model] = r
    if tasks:
        missing = sorted(set(tasks) - {k[0] for k in by_key})
        if missing:
            raise ConfigError(f"{source}: no records for task(s) {', '.join(missing)}")
    rows = []
    for (task, subset, protocol), recs in by_key.items():
        a, b = recs.get(baseline), recs.get(model)
        if a is None or b is None:
            continue
        row: dict[str, Any] = {
            "task": task, "subset": subset, "protocol": protocol, "n": b.n,
            "baseline": 100 * a.main_score, "model": 100 * b.main_score,
            "diff": 100 * (b.main_score - a.main_score), "low": None, "high": None,
            "p_value": None, "test": None, "note": "",
        }
        if a.items is None or b.items is None:
            row["note"] = "no per-item scores (evaluate with keep_items: true)"
        elif len(a.items) != len(b.items):
            row["note"] = f"different items ({len(a.items)} vs {len(b.items)})"
        else:
            res = paired_test(a.items, b.items, n=n_resamples, seed=seed)
            row.update(diff=100 * res.diff, low=100 * res.low, high=100 * res.high, p_value=res.p_value,
                       test=res.test)
        rows.append(row)
    if not rows:
        raise ConfigError(f"{source}: models {baseline!r} and {model!r} share no task")
    return rows


def compare_markdown(rows: list[dict[str, Any]], baseline: str, model: str) -> str:
    """The rows of :func:`compare_models` as a Markdown table."""
    lines = [f"`{model}` − `{baseline}` (percentage points; 95% paired bootstrap over items). "
             f"p-values: {P_VALUE_CONVENTION}.", "",
             "| task | subset | protocol | n | baseline | model | difference [95% CI] | p | test |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["low"] is None:
            diff, p, test = f"{r['diff']:+.1f} ({r['note']})", "–", "–"
        else:
            diff = f"{r['diff']:+.1f} [{r['low']:+.1f}, {r['high']:+.1f}]"
            p, test = f"{r['p_value']:.3f}", r["test"]
        lines.append(f"| {r['task']} | {r['subset']} | {r['protocol']} | {r['n']} | {r['baseline']:.1f} "
                     f"| {r['model']:.1f} | {diff} | {p} | {test} |")
    return "\n".join(lines) + "\n"
