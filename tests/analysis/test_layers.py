"""Per-layer sentence representations from the tiny model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from luxembedder.analysis.layers import FINAL, layer_embeddings, layer_key, num_hidden_states

TEXTS = [
    "Moien, wéi geet et?",
    "The weather is nice today.",
    "a",
    "Das Wetter ist heute schön und es ist warm, sot hien.",
    "Il fait beau.",
]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_model_dir), device="cpu", local_files_only=True)


def test_shapes_order_and_final_matches_encode(tiny) -> None:
    n_states = num_hidden_states(tiny)
    out = layer_embeddings(tiny, TEXTS, batch_size=2)
    hidden = tiny[0].auto_model.config.hidden_size
    assert list(out) == [layer_key(i) for i in range(n_states)] + [FINAL]
    for key in out:
        assert out[key].shape == (len(TEXTS), hidden if key != FINAL else tiny.get_embedding_dimension())
        assert out[key].dtype == np.float32
    # the final sentence embedding is exactly what encode() gives (prompt applied, input order kept)
    enc = tiny.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(out[FINAL], enc, atol=1e-5)
    # the model is mean pooling + normalise: the last layer, normalised, is the final embedding
    last = out[layer_key(n_states - 1)]
    np.testing.assert_allclose(last / np.linalg.norm(last, axis=1, keepdims=True), out[FINAL], atol=1e-5)
    # batch size does not change results; the prompt does
    again = layer_embeddings(tiny, TEXTS, batch_size=5, layers=[0, 1], include_final=False)
    assert list(again) == [layer_key(0), layer_key(1)]
    np.testing.assert_allclose(again[layer_key(1)], out[layer_key(1)], atol=1e-5)
    no_prompt = layer_embeddings(tiny, TEXTS, layers=[1], include_final=False, prompt="")
    assert not np.allclose(no_prompt[layer_key(1)], out[layer_key(1)], atol=1e-4)
    assert tiny[0].auto_model.config.output_hidden_states is False


def test_bad_layer_index(tiny) -> None:
    with pytest.raises(ValueError, match="out of range"):
        layer_embeddings(tiny, TEXTS, layers=[99])
