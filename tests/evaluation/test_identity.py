"""Stable model identity (weights' content, not path or mtime) and the provenance every record carries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from luxembedder.evaluation.results import load_results
from luxembedder.evaluation.runner import evaluate, in_memory_model_name
from luxembedder.models.registry import model_name
from luxembedder.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_copy_of_the_weights_has_the_same_name(tiny_model_dir: Path, tmp_path: Path,
                                                 eval_settings_obj: Settings) -> None:
    copy = tmp_path / "elsewhere" / tiny_model_dir.name
    shutil.copytree(tiny_model_dir, copy)
    for f in copy.glob("**/*.safetensors"):
        os.utime(f, (1_000_000, 1_000_000))  # another mtime, as after a download or rsync without -t
    original = model_name(str(tiny_model_dir), eval_settings_obj)
    assert model_name(str(copy), eval_settings_obj) == original
    assert original.startswith(f"{tiny_model_dir.name}@")
    weights = next(copy.glob("**/*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one changed bit in the weights
    weights.write_bytes(bytes(data))
    assert model_name(str(copy), eval_settings_obj) != original


def test_in_memory_models_are_named_by_config_and_weights_or_explicitly(tiny_model_dir: Path, tmp_path: Path,
                                                                          eval_settings_obj: Settings) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    name = in_memory_model_name(model)
    assert name.startswith(f"{tiny_model_dir.name}@mem-") and name == in_memory_model_name(
        SentenceTransformer(str(tiny_model_dir), device="cpu"))
    recs = evaluate([model], ["paralux"], tmp_path / "a", eval_settings_obj, batch_size=4)
    assert [r.model for r in recs] == [name]
    recs = evaluate([model, str(tiny_model_dir)], ["paralux"], tmp_path / "b", eval_settings_obj, batch_size=4,
                    names=["my-model", "folder-model"])
    assert [r.model for r in recs] == ["my-model", "folder-model"]
    with pytest.raises(ValueError, match="names"):
        evaluate([model], ["paralux"], tmp_path / "c", eval_settings_obj, names=["a", "b"])


def test_records_carry_model_and_run_provenance(tiny_model_dir: Path, tmp_path: Path,
                                                eval_settings_obj: Settings) -> None:
    [rec] = evaluate([str(tiny_model_dir)], ["paralux"], tmp_path / "o", eval_settings_obj, batch_size=4,
                     command="luxembedder eval -m tiny -t paralux")
    assert rec.model_path == str(tiny_model_dir) and rec.command == "luxembedder eval -m tiny -t paralux"
    assert rec.config is not None and rec.config["eval"]["seed"] == 42
    if (ROOT / ".git").exists():
        assert rec.toolkit_commit and len(rec.toolkit_commit.split("+")[0]) == 40


def test_records_written_before_these_fields_still_load() -> None:
    for path in sorted((ROOT / "docs" / "results").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        if '"records"' in text[:200]:
            assert load_results(path)
