"""ONNX backends: export round-trip on the tiny model, export once per model content, cache keys, errors."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from luxembedder.errors import ConfigError, ModelNotAvailableError
from luxembedder.models.backends import ensure_export, export_dir, model_content_hash
from luxembedder.models.cache import CachedEncoder
from luxembedder.models.registry import load_encoder
from luxembedder.settings import get_settings

pytest.importorskip("onnxruntime")

TEXTS = ["D'Wieder ass haut schéin an et ass waarm.", "Mir fueren de Weekend op d'Musel.",
         "The weather is nice today and it is warm.", "Où est la pharmacie la plus proche ?",
         "Kurz.", "Eis Kanner spillen am Gaart, an d'Bibliothéik mécht um néng Auer op, wann et net reent."] * 3


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture()
def settings(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LUXEMBEDDER_HOME", str(home))
    return get_settings()


def test_onnx_round_trip_matches_torch(tiny_model_dir: Path, settings) -> None:
    ref = load_encoder(tiny_model_dir, settings).encode(TEXTS, batch_size=4)
    fp32 = load_encoder(tiny_model_dir, settings, backend="onnx")
    int8 = load_encoder(tiny_model_dir, settings, backend="onnx-int8")
    a, b = fp32.encode(TEXTS, batch_size=4), int8.encode(TEXTS, batch_size=5)  # other batch: other padding
    assert a.shape == b.shape == ref.shape and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(b, axis=1), 1, atol=1e-5)
    assert (a * ref).sum(axis=1).min() >= 0.999
    assert (b * ref).sum(axis=1).min() >= 0.99
    assert not np.array_equal(b, a)  # int8 really is another network
    assert fp32.name.endswith("+onnx") and int8.name.endswith("+onnx-int8")
    assert fp32.name.removesuffix("+onnx") == load_encoder(tiny_model_dir, settings).name


def test_export_once_per_model_content(tiny_model_dir: Path, settings, tmp_path: Path) -> None:
    folder = ensure_export(tiny_model_dir, "onnx-int8", settings)
    assert folder == export_dir(tiny_model_dir, "onnx-int8", settings)
    assert folder.parent.parent == settings.models_home / "onnx"
    stamp = (folder / "model.onnx").stat().st_mtime_ns
    assert ensure_export(tiny_model_dir, "onnx-int8", settings) == folder
    assert (folder / "model.onnx").stat().st_mtime_ns == stamp  # not exported again
    assert not list(folder.parent.parent.glob("**/*.tmp*"))  # atomic: no leftovers
    copy = shutil.copytree(tiny_model_dir, tmp_path / "copy")
    assert model_content_hash(copy) == model_content_hash(tiny_model_dir)  # keyed by content, not path
    weights = next(copy.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # a changed weight: another model
    weights.write_bytes(bytes(data))
    assert export_dir(copy, "onnx", settings) != export_dir(tiny_model_dir, "onnx", settings)


def test_cache_keeps_backends_apart(tiny_model_dir: Path, settings, tmp_path: Path) -> None:
    c1 = CachedEncoder(load_encoder(tiny_model_dir, settings, backend="onnx-int8"), tmp_path)
    c2 = CachedEncoder(load_encoder(tiny_model_dir, settings), tmp_path)
    c1.encode(TEXTS[:3])
    c2.encode(TEXTS[:3])
    assert c1.dir != c2.dir and c2.misses == 3


def test_mining_model_name_carries_the_backend(tiny_model_dir: Path, settings) -> None:
    from luxembedder.mining import MiningConfig
    from luxembedder.mining.pipeline import _model_name

    cfg = MiningConfig.improved()
    cfg.embedding.model = str(tiny_model_dir)
    cfg.embedding.backend = "onnx-int8"
    assert _model_name(cfg, settings).endswith("+onnx-int8")


def test_errors(tiny_model_dir: Path, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="unknown backend 'onnx-int4'"):
        load_encoder(tiny_model_dir, settings, backend="onnx-int4")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ModelNotAvailableError, match=r"luxembedder\[onnx\]"):
        load_encoder(tiny_model_dir, settings, backend="onnx")
