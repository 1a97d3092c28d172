"""Shared fixtures: the data directory, a tiny random model, and (for slow tests) the real me5-small."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data directory (../shared/data beside the checkout, or $LUXEMBEDDER_DATA)."""
    from luxembedder.settings import get_settings

    path = get_settings().data_dir
    if path is None:
        pytest.fail("../shared/data not found beside the checkout and $LUXEMBEDDER_DATA not set")
    return path


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny randomly initialised sentence-transformers model folder (built once per session)."""
    from luxembedder.models.tiny import make_tiny_model

    out = tmp_path_factory.mktemp("tiny-model")
    make_tiny_model(out, seed=0)
    return out


@pytest.fixture(scope="session")
def me5_dir() -> Path:
    """The real me5-small, prepared (idempotently) in the models home; converted once if missing."""
    from luxembedder.models.registry import prepare_model

    return prepare_model("me5-small")
