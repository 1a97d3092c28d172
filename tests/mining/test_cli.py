"""``luxembedder mine`` / ``merge-runs`` end to end with the tiny model, and the example config."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from luxembedder.cli.main import app
from luxembedder.mining import MiningConfig

from .helpers import write_articles

CONFIG = Path(__file__).parents[2] / "configs" / "mine.yaml"


def test_example_config_is_valid() -> None:
    cfg = MiningConfig.from_yaml(CONFIG)
    assert cfg == MiningConfig.improved()
    parity = MiningConfig.parity()
    assert (parity.scoring.method, parity.scoring.cosine_threshold, parity.matching.window_days) == ("cosine", 0.70, 1)
    assert (parity.matching.article_threshold, parity.matching.sentence_stage_threshold) == (0.50, 0.65)


def test_mine_and_merge_cli(tiny_model_dir: Path, tmp_path: Path) -> None:
    arts = write_articles(tmp_path / "a.jsonl")
    runner = CliRunner()
    run = tmp_path / "run"
    res = runner.invoke(app, ["--data-dir", str(tmp_path), "mine", "--articles", str(arts), "--out", str(run),
                              "--model", str(tiny_model_dir), "--pairs", "lb-en", "--scoring", "margin",
                              "--shard", "2024-03-04:2024-03-10"])
    assert res.exit_code == 0, res.output
    assert "LuxAlign mining" in res.output and res.output.strip().endswith(str(run))
    rep = json.loads((run / "report.json").read_text())
    assert rep["pairs"] == ["lb-en"] and rep["scoring"] == "margin"
    assert rep["config"]["shard"] == {"start": "2024-03-04", "end": "2024-03-10"}
    res = runner.invoke(app, ["--data-dir", str(tmp_path), "merge-runs", str(run), "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "m" / "pairs" / "lb-en.jsonl").read_text() == (run / "pairs" / "lb-en.jsonl").read_text()
    res = runner.invoke(app, ["mine", "--articles", str(arts), "--out", str(run), "--shard", "soon"])
    assert res.exit_code != 0
