"""Paired model comparison on the same items (``luxembedder results compare``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from luxembedder.errors import ConfigError
from luxembedder.evaluation.compare import compare_markdown, compare_models
from luxembedder.evaluation.results import ResultRecord, save_results


def _rec(model: str, task: str, items: list[float] | None, subset: str = "default") -> ResultRecord:
    score = float(np.mean(items)) if items else 0.5
    return ResultRecord.model_validate({
        "model": model, "task": task, "subset": subset, "protocol": "p", "main_score": score,
        "n": len(items) if items else 4, "data": [{"path": "x", "sha256": "0" * 64}], "items": items})


def _records() -> list[ResultRecord]:
    rng = np.random.default_rng(3)
    a = (rng.random(300) < 0.6).astype(float)
    b = a.copy()
    b[np.flatnonzero(a == 0)[:30]] = 1.0  # the model gets 30 more items right, loses none: +10 points
    return [_rec("base", "t1", a.tolist()), _rec("new", "t1", b.tolist()),
            _rec("base", "t2", a.tolist()), _rec("new", "t2", a.tolist()),  # identical: no difference
            _rec("base", "t3", None), _rec("new", "t3", None),
            _rec("base", "t4", [1.0, 0.0]), _rec("new", "t4", [1.0, 0.0, 1.0]),
            _rec("other", "t5", [1.0])]


def test_paired_difference_interval_and_notes() -> None:
    rows = {r["task"]: r for r in compare_models(_records(), "base", "new", n_resamples=1000)}
    assert set(rows) == {"t1", "t2", "t3", "t4"}  # t5: only one model has it
    t1 = rows["t1"]
    assert t1["diff"] == pytest.approx(10.0) and t1["model"] - t1["baseline"] == pytest.approx(10.0)
    assert 0 < t1["low"] < 10 < t1["high"] and t1["p_value"] < 0.01
    t2 = rows["t2"]
    assert t2["diff"] == 0 and t2["low"] == t2["high"] == 0 and t2["p_value"] == 1.0
    assert t1["test"] == t2["test"] == "exact McNemar"  # 0/1 items
    assert rows["t3"]["low"] is None and "per-item" in rows["t3"]["note"]
    assert rows["t4"]["low"] is None and "different items" in rows["t4"]["note"]
    # the paired interval is narrower than the one from two independent bootstraps would suggest
    paired_width = t1["high"] - t1["low"]
    assert paired_width < 8
    md = compare_markdown(list(rows.values()), "base", "new")
    assert "+10.0 [" in md and "no per-item scores" in md and "McNemar" in md


def test_unknown_model_task_or_nothing_shared() -> None:
    recs = _records()
    with pytest.raises(ConfigError, match=r"model 'nope'.*base, new, other"):
        compare_models(recs, "base", "nope")
    with pytest.raises(ConfigError, match="task"):
        compare_models(recs, "base", "new", tasks=["t9"])
    with pytest.raises(ConfigError, match="share no task"):
        compare_models(recs, "base", "other")


def test_cli_compare(tmp_path: Path) -> None:
    from luxembedder.cli.main import app

    path = save_results(tmp_path / "results.json", _records())
    res = CliRunner().invoke(app, ["results", "compare", str(path), "-b", "base", "-m", "new", "-t", "t1",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.output)
    assert row["task"] == "t1" and row["diff"] == pytest.approx(10.0)


def test_cli_copy_selects_models_in_order(tmp_path: Path) -> None:
    from luxembedder.cli.main import app
    from luxembedder.evaluation.results import load_results

    recs = [r.model_copy(update={"model": "new@0123abcd"}) if r.model == "new" else r for r in _records()]
    path = save_results(tmp_path / "results.json", recs)
    runner = CliRunner()
    res = runner.invoke(app, ["results", "copy", str(path), str(tmp_path / "c.json"), "-m", "new", "-m", "base",
                              "--keep-items"])
    assert res.exit_code == 0, res.output
    copied = load_results(tmp_path / "c.json")
    assert list(dict.fromkeys(r.model for r in copied)) == ["new@0123abcd", "base"]
    assert len(copied) == 8 and copied[0].items and copied[0].model == "new@0123abcd"
    res = runner.invoke(app, ["results", "copy", str(path), str(tmp_path / "d.json"), "-m", "nope"])
    assert res.exit_code != 0 and "nope" in str(res.exception)
