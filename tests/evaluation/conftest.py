"""Deterministic fake encoders and the tiny evaluation data directory."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from luxembedder.settings import Settings

EVAL_FIXTURES = Path(__file__).parents[1] / "fixtures" / "eval"


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class KeywordEncoder:
    """Bag of words over a fixed vocabulary (word -> dimension); unknown words share the last dimension."""

    def __init__(self, vocab: dict[str, int], dim: int = 16, name: str = "keywords") -> None:
        self.vocab, self.dim, self.name = vocab, dim, name
        self.calls = 0
        self.encoded = 0

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in words(t):
                out[i, self.vocab.get(w, self.dim - 1)] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def bag_of_words(texts: Sequence[str], name: str = "bow") -> KeywordEncoder:
    """An exact bag-of-words encoder whose vocabulary covers ``texts`` (one dimension per word)."""
    vocab = {w: i for i, w in enumerate(sorted({w for t in texts for w in words(t)}))}
    return KeywordEncoder(vocab, dim=len(vocab) + 1, name=name)


SIB_VOCAB = {w: d for d, ws in enumerate([
    ["fussball", "ekipp", "club", "sport", "football", "team"],
    ["regierung", "chamber", "politik", "government", "parliament"],
    ["dokter", "spidol", "gesond", "gesondheet", "doctor", "hospital", "healthy"],
]) for w in ws}


@pytest.fixture()
def eval_data_dir() -> Path:
    return EVAL_FIXTURES / "data"


@pytest.fixture()
def eval_settings_obj(eval_data_dir: Path, tmp_path: Path) -> Settings:
    return Settings(data_dir=eval_data_dir, models_home=tmp_path / "home", online=False)
