"""The tiny random model: shape, normalisation, determinism, save/reload and the default prompt."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from luxembedder.models.tiny import make_tiny_model, train_tiny_tokenizer

TEXTS = ["D'Wieder ass haut schéin.", "The bus comes every ten minutes.", "Wou ass d'Bibliothéik?"]


@pytest.fixture(scope="module")
def tiny():
    return make_tiny_model(seed=0)


def test_encodes_normalised_float32(tiny) -> None:
    emb = tiny.encode(TEXTS)
    assert emb.dtype == np.float32
    assert emb.shape == (len(TEXTS), 32)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_builds_fast(tiny) -> None:
    start = time.perf_counter()
    make_tiny_model(seed=1)
    assert time.perf_counter() - start < 2.0


def test_deterministic_for_seed(tiny) -> None:
    again = make_tiny_model(seed=0)
    np.testing.assert_array_equal(tiny.encode(TEXTS), again.encode(TEXTS))
    other = make_tiny_model(seed=1)
    assert not np.allclose(tiny.encode(TEXTS), other.encode(TEXTS))


def test_tokenizer_deterministic_and_family() -> None:
    a, b = train_tiny_tokenizer(), train_tiny_tokenizer()
    assert a.to_str() == b.to_str()
    enc = a.encode("D'Wieder  ass ＨＡＵＴ schéin.")
    assert enc.tokens[0] == "<s>" and enc.tokens[-1] == "</s>"
    assert enc.ids[0] == 0 and enc.ids[-1] == 2
    assert enc.tokens[1].startswith("▁")
    assert "<unk>" not in enc.tokens  # NFKC folds the full-width letters into the training alphabet


def test_default_prompt_is_query(tiny) -> None:
    assert tiny.default_prompt_name == "query"
    assert tiny.prompts["query"] == "query: " and tiny.prompts["passage"] == "passage: "
    default = tiny.encode(["x", "Ech drénke Kaffi."])
    explicit = tiny.encode(["query: x", "query: Ech drénke Kaffi."], prompt="")
    bare = tiny.encode(["x", "Ech drénke Kaffi."], prompt="")
    np.testing.assert_allclose(default, explicit, atol=1e-6)
    assert not np.allclose(default, bare, atol=1e-3)


def test_without_prompts() -> None:
    model = make_tiny_model(seed=0, prompts=False)
    assert model.default_prompt_name is None
    assert not model.prompts.get("query")


def test_save_and_reload(tmp_path: Path, tiny) -> None:
    from sentence_transformers import SentenceTransformer

    saved = make_tiny_model(tmp_path / "tiny", seed=0)
    reloaded = SentenceTransformer(str(tmp_path / "tiny"), device="cpu")
    for name in ("modules.json", "model.safetensors", "tokenizer.json", "config_sentence_transformers.json"):
        assert (tmp_path / "tiny" / name).is_file()
    np.testing.assert_allclose(reloaded.encode(TEXTS), tiny.encode(TEXTS), atol=1e-6)
    np.testing.assert_allclose(saved.encode(TEXTS), tiny.encode(TEXTS), atol=1e-6)
    assert reloaded.default_prompt_name == "query"
