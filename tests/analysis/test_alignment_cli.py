"""``luxembedder analyze cka`` on the tiny models and a few FLORES sentences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from luxembedder.analysis.alignment import CkaConfig, change_table, check_flores_languages, run_cka
from luxembedder.errors import MissingDataError
from luxembedder.settings import get_settings

LANGS = ["ltz_Latn", "eng_Latn", "fra_Latn"]


@pytest.fixture(scope="module")
def second_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from luxembedder.models.tiny import make_tiny_model

    out = tmp_path_factory.mktemp("tiny-model-2")
    make_tiny_model(out, seed=1)
    return out


def test_cli_two_models(tiny_model_dir: Path, second_tiny: Path, data_dir: Path, tmp_path: Path) -> None:
    from luxembedder.cli.main import app

    out = tmp_path / "cka"
    res = CliRunner().invoke(app, [
        "--data-dir", str(data_dir), "analyze", "cka", "--model", str(tiny_model_dir), "--model", str(second_tiny),
        "--langs", ",".join(LANGS), "--n", "12", "--out", str(out), "--layers", "all",
    ])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "cka.json").read_text())
    records = doc["results"]
    models = list(doc["models"].values())
    assert len(models) == 2
    # every model: embedding layer + 2 transformer layers + final
    for m in models:
        layers = [r["layer"] for r in records if r["model"] == m]
        assert layers == ["layer_00", "layer_01", "layer_02", "final"]
    for r in records:
        mat = np.asarray(r["matrix"])
        assert r["languages"] == LANGS and mat.shape == (3, 3)
        np.testing.assert_allclose(np.diag(mat), 1.0, atol=1e-6)
        np.testing.assert_allclose(mat, mat.T, atol=1e-6)
    assert doc["protocol"]["sentences"] == 12
    assert all(len(d["sha256"]) == 64 for d in doc["data"])
    assert "torch" in doc["versions"]
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len([p for p in pngs if p.startswith("heatmap_")]) == 2
    assert "layers_mean_cka_eng_Latn.png" in pngs and "change.png" in pngs
    change = json.loads((out / "change.json").read_text())
    assert [r["language"] for r in change["rows"]] == LANGS
    assert (out / "change.md").read_text().startswith("# CKA change")
    assert (out / "cka_config.yaml").is_file()
    # the embeddings are cached: a second run reads them back and gives the same numbers
    cached = run_cka(CkaConfig(models=[str(tiny_model_dir)], languages=LANGS, n=12, plots=False), out,
                     get_settings(data_dir=data_dir))
    first = next(r for r in records if r["model"] == models[0] and r["layer"] == "final")
    again = next(r for r in cached["results"] if r["layer"] == "final")
    np.testing.assert_allclose(again["matrix"], first["matrix"], atol=1e-9)


def test_missing_language_is_a_clear_error(data_dir: Path) -> None:
    with pytest.raises(MissingDataError, match=r"xyz_Latn.*ltz_Latn"):
        check_flores_languages(data_dir, ["ltz_Latn", "xyz_Latn"])


def test_change_table_is_second_minus_first() -> None:
    a = {"languages": ["x", "eng_Latn", "y"], "matrix": [[1, .5, .2], [.5, 1, .4], [.2, .4, 1]]}
    b = {"languages": ["x", "eng_Latn", "y"], "matrix": [[1, .7, .2], [.7, 1, .1], [.2, .1, 1]]}
    rows = change_table(a, b, "eng_Latn")
    assert rows[0]["delta_eng_Latn"] == pytest.approx(0.2)
    assert rows[2]["delta_eng_Latn"] == pytest.approx(-0.3)
    assert rows[0]["delta_mean"] == pytest.approx(((.7 + .2) - (.5 + .2)) / 2)
