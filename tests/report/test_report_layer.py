"""The shared report layer: one number convention, templates, results tables, bar charts and warnings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from luxembedder.evaluation.report import (
    PAIRED_TEST,
    _group_labels,
    format_table,
    markdown_table,
    paired_delta,
    write_reports,
)
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.stats import paired_test
from luxembedder.utils import report as R


def _rec(model: str, items: list[float] | None, subset: str = "default", protocol: str = "p", task: str = "t1"):
    arr = np.asarray(items if items is not None else [1, 0, 1, 1], dtype=float)
    return ResultRecord(model=model, task=task, subset=subset, protocol=protocol, main_score=float(arr.mean()),
                        ci95=(max(0.0, arr.mean() - 0.1), min(1.0, arr.mean() + 0.1)), n=arr.size,
                        items=None if items is None else list(arr))


def test_number_convention() -> None:
    assert R.pct(0.83449) == "83.4" and R.pct(None) == "–" and R.pct(float("nan")) == "–"
    assert R.score(0.8342, (0.8011, 0.865)) == "83.4 [80.1, 86.5]"
    assert R.score(0.5) == "50.0"
    d = {"diff": 0.023, "low": 0.005, "high": 0.041, "p_value": 0.0123, "test": "paired bootstrap"}
    assert R.delta(d) == "+2.3 [+0.5, +4.1], paired bootstrap p = 0.012"
    assert R.delta({"diff": -0.01, "note": "unpaired"}) == "-1.0 (unpaired)"
    assert R.delta({**d, "p_value": 0.0001}).endswith("p < 0.001")
    assert R.count(12345) == "12,345" and R.num(0.98765) == "0.988" and R.seconds(150) == "2.5 min"
    assert R.cell({"a": 1, "b": 2}) == "a 1, b 2"  # no raw dicts in tables


def test_templates_are_packaged_and_escape_html(tmp_path: Path) -> None:
    assert (R.templates_dir() / "report.html.j2").is_file() and (R.templates_dir() / "report.md.j2").is_file()
    doc = R.Document("a <b> & c")
    doc.add_lead("x|y", "Label")
    doc.section("Scores").table([{"col|1": "<i>", "n": 3}]).warning("careful")
    paths = doc.write(tmp_path)
    md, htm = paths["md"].read_text(), paths["html"].read_text()
    assert "# a <b> & c" in md and "| col\\|1 | n |" in md and "> **Warning:** careful" in md
    assert "<h1>a &lt;b&gt; &amp; c</h1>" in htm and "<td class=\"nw\">&lt;i&gt;</td>" in htm
    assert '<section id="scores"><h2>Scores</h2>' in htm


def test_paired_delta_names_the_test_and_matches_the_bootstrap() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 200).astype(float)
    b = np.where(rng.random(200) < 0.3, 1.0, a)
    base, new = _rec("base", list(a)), _rec("new", list(b))
    d = paired_delta(base, new, n_resamples=500)
    ref = paired_test(a, b, n=500, seed=0)
    assert d["test"] == ref.test == "exact McNemar" and d["n_resamples"] == 500
    assert (d["low"], d["high"], d["p_value"]) == (ref.low, ref.high, ref.p_value)
    assert paired_delta(_rec("base", None), new)["note"] == "unpaired"


def test_results_table_formats() -> None:
    recs = [_rec("base", [1, 0, 1, 0]), _rec("new", [1, 1, 1, 0]),
            _rec("base", [0, 0, 1, 0], subset="s2"), _rec("new", [1, 0, 1, 0], subset="s2")]
    md = markdown_table(recs)
    assert md.startswith("| task | subset | protocol | n | base | new | Δ new − base |")
    assert "| t1 | default | p | 4 | 50.0 [40.0, 60.0] | 75.0 [65.0, 85.0] | +25.0 [" in md
    assert "exact McNemar p = " in md
    rows = list(csv.DictReader(io.StringIO(format_table(recs, "csv"))))
    assert len(rows) == 4 and rows[1]["model"] == "new" and float(rows[1]["score"]) == 75.0
    assert float(rows[1]["delta"]) == 25.0 and rows[1]["test"] == "exact McNemar" and rows[0]["delta"] == ""
    js = json.loads(format_table(recs, "json"))
    assert js[3]["ci95_low"] == 40.0 and js[3]["baseline"] == "base"
    tex = format_table(recs, "latex")
    assert "\\begin{tabular}{lllrrrr}" in tex and "$\\Delta$ new -- base" in tex and tex.count("\\\\") == 3
    with pytest.raises(ValueError, match="unknown table format"):
        format_table(recs, "xml")


def test_bar_chart_labels_are_distinct_with_the_protocol() -> None:
    keys = [("lb", "zeroshot-lb-templates/" + "x" * 50), ("lb", "zeroshot-en-templates/" + "x" * 50)]
    labels = _group_labels(keys)
    assert len(set(labels)) == 2 and all("templates" in lab for lab in labels)
    same = _group_labels([("a", "p"), ("a", "p")])
    assert len(set(same)) == 2


def test_evaluation_report_states_resamples_and_the_test(tmp_path: Path) -> None:
    (tmp_path / "eval_config.yaml").write_text("eval:\n  bootstrap_samples: 321\n")
    recs = [_rec("base", [1, 0, 1, 0], protocol="zeroshot-lb-templates"),
            _rec("base", [1, 0, 0, 0], protocol="zeroshot-en-templates"),
            _rec("new", [1, 1, 1, 0], protocol="zeroshot-lb-templates"),
            _rec("new", [1, 1, 0, 0], protocol="zeroshot-en-templates")]
    paths = write_reports(recs, tmp_path, n_resamples=400)
    md, htm = paths["md"].read_text(), paths["html"].read_text()
    assert "(321 resamples)" in md and f"{PAIRED_TEST} over the same items (400 resamples)" in md
    assert "zeroshot-en-templates" in md and "75.0 [65.0, 85.0]" in md
    assert "data:image/png;base64," in htm and paths["chart:t1"].is_file()
