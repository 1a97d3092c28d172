"""The torch-bf16 backend: used only with native bf16, named by the backend that ran (caches never mix)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from luxembedder.errors import ConfigError
from luxembedder.evaluation.runner import _model_name
from luxembedder.models import backends
from luxembedder.models.backends import backend_suffix, effective_backend
from luxembedder.models.registry import load_encoder
from luxembedder.settings import get_settings

TEXTS = ["D'Wieder ass haut schéin.", "Mir fueren op d'Musel.", "The weather is nice today.", "Kurz."]


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LUXEMBEDDER_HOME", str(tmp_path / "home"))
    return get_settings()


def _native(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    monkeypatch.setattr(backends, "cpu_supports_bf16", lambda: native)
    backends._warn_no_native_bf16.cache_clear()


@pytest.mark.parametrize("native", [True, False])
def test_effective_backend(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, native: bool) -> None:
    _native(monkeypatch, native)
    expected = "torch-bf16" if native else "torch"
    with caplog.at_level(logging.WARNING, logger="luxembedder.models.backends"):
        assert effective_backend("torch-bf16") == expected
        assert effective_backend("torch", bf16=True) == expected
        assert effective_backend("torch") == "torch"
    assert ("native bf16" in caplog.text) is (not native)
    assert effective_backend("torch-bf16", device="cuda") == "torch-bf16"  # CUDA: the device decides
    assert effective_backend("onnx-int8", bf16=True) == "onnx-int8"
    assert backend_suffix(expected) == ("+bf16" if native else "")
    with pytest.raises(ConfigError, match="unknown backend"):
        effective_backend("bf16")


@pytest.mark.parametrize("native", [True, False])
def test_encoder_name_is_the_backend_that_ran(tiny_model_dir: Path, settings, monkeypatch: pytest.MonkeyPatch,
                                              native: bool) -> None:
    _native(monkeypatch, native)
    fp32 = load_encoder(tiny_model_dir, settings)
    enc = load_encoder(tiny_model_dir, settings, backend="torch-bf16")
    assert enc.name == fp32.name + ("+bf16" if native else "")
    assert enc.bf16 is native
    assert load_encoder(tiny_model_dir, settings, bf16=True).name == enc.name
    assert _model_name(str(tiny_model_dir), settings, "torch", bf16=True) == enc.name
    a, b = fp32.encode(TEXTS, batch_size=2), enc.encode(TEXTS, batch_size=2)
    assert b.dtype == np.float32 and b.shape == a.shape
    cos = (a * b).sum(axis=1)
    assert np.all(cos > 0.98)
    assert np.array_equal(a, b) is (not native)  # bf16 really ran (or really did not)


def test_docstring_examples() -> None:
    import doctest

    result = doctest.testmod(backends)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("native", [True, False])
def test_names_follow_the_one_decision(tiny_model_dir: Path, settings, monkeypatch: pytest.MonkeyPatch,
                                       native: bool) -> None:
    """Mining's cache name, the encoder and a Ray actor agree on the backend that runs."""
    import torch

    from luxembedder.mining import MiningConfig
    from luxembedder.mining.pipeline import _model_name as mining_name
    from luxembedder.mining.ray_engine import EmbedActor

    _native(monkeypatch, native)
    cfg = MiningConfig.preset("parity")
    cfg.embedding.model, cfg.embedding.backend = str(tiny_model_dir), "torch-bf16"
    assert mining_name(cfg, settings) == load_encoder(tiny_model_dir, settings, backend="torch-bf16").name
    assert mining_name(cfg, settings).endswith("+bf16") is native
    threads = torch.get_num_threads()
    try:
        if native:
            actor = EmbedActor(str(tiny_model_dir), "torch-bf16", 4, threads, None, None)
            assert actor.encoder.bf16
        else:  # the driver said torch-bf16 (a machine with bf16); this worker has none: it must refuse
            with pytest.raises(ConfigError, match="cannot run backend torch-bf16"):
                EmbedActor(str(tiny_model_dir), "torch-bf16", 4, threads, None, None)
    finally:
        torch.set_num_threads(threads)


def test_adapter_models_ignore_bf16(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from luxembedder.models.registry import encoder_backend

    _native(monkeypatch, True)
    assert encoder_backend("use-multilingual", settings, "torch", bf16=True) == "torch"
    assert _model_name("use-multilingual", settings, "torch", bf16=True) == _model_name("use-multilingual", settings)
    with pytest.raises(ConfigError, match="adapter"):
        encoder_backend("use-multilingual", settings, "onnx-int8")
