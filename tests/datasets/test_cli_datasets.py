"""``luxembedder datasets ntrex-comparable|sample``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from luxembedder.cli.main import app


def test_ntrex_comparable_cli(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    res = CliRunner().invoke(app, ["--data-dir", str(data_dir), "datasets", "ntrex-comparable",
                                   "--out", str(out), "--seed", "3"])
    assert res.exit_code == 0, res.output
    assert res.output.strip().splitlines()[-1] == str(out)
    meta = json.loads((out / "benchmark.json").read_text())
    assert meta["seed"] == 3 and (out / "articles.jsonl").stat().st_size > 0


def test_ntrex_comparable_cli_missing_data(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "none"), "datasets", "ntrex-comparable",
                                   "--out", str(tmp_path / "b")])
    assert res.exit_code != 0 and "data directory" in str(res.exception)


def test_sample_cli() -> None:
    res = CliRunner().invoke(app, ["datasets", "sample"])
    assert res.exit_code == 0 and (Path(res.output.strip()) / "articles.jsonl").is_file()
