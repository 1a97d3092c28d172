"""The mining store: one module for stage outputs; filters declare their scope; merge reads the scope."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import luxembedder.mining as mining_pkg
from luxembedder.mining import filters as F
from luxembedder.mining.merge import _with_scope
from luxembedder.mining.store import PAIR_COLUMNS, read_parquet, run_stage, write_parquet

MINING = Path(mining_pkg.__file__).parent


def _imports(module: str) -> set[str]:
    tree = ast.parse((MINING / f"{module}.py").read_text(encoding="utf-8"))
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


def test_pipeline_select_and_merge_do_not_import_each_other_upwards() -> None:
    assert "luxembedder.mining.pipeline" not in _imports("select") | _imports("merge")
    assert "luxembedder.mining.merge" not in _imports("select") | _imports("pipeline")
    assert "luxembedder.mining.store" in _imports("select") & _imports("merge") & _imports("pipeline")


def test_parquet_roundtrip_and_stage_fingerprints(tmp_path: Path) -> None:
    cols = {k: ["a", "b"] if k.startswith(("text", "article", "sentence")) else [0.5, 0.25] for k in PAIR_COLUMNS}
    write_parquet(tmp_path / "p.parquet", cols)
    back = read_parquet(tmp_path / "p.parquet")
    assert list(back) == list(PAIR_COLUMNS) and back["cos_sim"].tolist() == [0.5, 0.25]
    calls: list[int] = []
    activity: dict[str, list[str]] = {"run": [], "skipped": []}

    def build(tmp: Path) -> dict:
        calls.append(1)
        (tmp / "x.txt").write_text("x")
        return {"summary": "one file"}

    run_stage(tmp_path, "s", "fp1", build, activity)
    run_stage(tmp_path, "s", "fp1", build, activity)
    run_stage(tmp_path, "s", "fp2", build, activity)
    assert len(calls) == 2 and activity == {"run": ["s", "s"], "skipped": ["s"]}


def test_filters_declare_scope_and_apply_filters_reports_it() -> None:
    t1 = np.array(["a", "a", "b", "c"], dtype=object)
    t2 = np.array(["x", "x", "y", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"], dtype=object)
    score = np.array([0.9, 0.8, 0.7, 0.6])
    leak = F.LeakageIndex(["b"])
    steps = [lambda a: F.length_ratio(t1[a], t2[a], 2.0), lambda a: F.exact_duplicates(t1[a], t2[a], score[a]),
             lambda a: leak.filter(t1[a], t2[a])]
    keep, reason, scope, counts = F.apply_filters(4, steps)
    assert reason.tolist()[1:] == ["duplicate-pair", "leakage", "length-ratio>=2"]
    assert keep.tolist() == [True, False, False, False]
    assert scope.tolist() == ["", "across", "run", "candidate"]
    assert [c["scope"] for c in counts] == ["candidate", "across", "run"]
    assert F.apply_in_order(4, steps)[0].tolist() == keep.tolist()


def test_merge_reads_scope_or_derives_it_for_old_tables() -> None:
    old = {"reason": np.array(["", "duplicate-pair", "length-ratio>=2", "leakage"], dtype=object)}
    assert _with_scope(old)["drop_scope"].tolist() == ["", "across", "candidate", "across"]
    new = {"reason": np.array(["x"], dtype=object), "drop_scope": np.array(["run"], dtype=object)}
    assert _with_scope(new)["drop_scope"].tolist() == ["run"]
