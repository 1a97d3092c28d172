"""The top-level Python API: lazy names, the same objects as in the submodules, used by every doc snippet."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import luxembedder

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = {
    "mine": "luxembedder.mining.pipeline", "MiningConfig": "luxembedder.mining.config",
    "train": "luxembedder.training.trainer", "TrainConfig": "luxembedder.training.config",
    "PairSource": "luxembedder.training.config", "evaluate": "luxembedder.evaluation.runner",
    "embed": "luxembedder.embedding", "load_encoder": "luxembedder.models.registry",
    "prepare_model": "luxembedder.models.registry", "run_recipe": "luxembedder.recipe.run",
    "RecipeConfig": "luxembedder.recipe.config", "push": "luxembedder.hub", "get_settings": "luxembedder.settings",
}


def test_import_is_light() -> None:
    code = ("import sys, luxembedder; heavy = [m for m in ('numpy', 'torch', 'sentence_transformers', "
            "'transformers', 'pydantic', 'huggingface_hub') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""})
    assert out.stdout.strip() == "[]"


def test_names_are_the_submodules_objects() -> None:
    import importlib

    assert set(luxembedder.__all__) == {*PUBLIC, "__version__"}
    for name, module in PUBLIC.items():
        assert getattr(luxembedder, name) is getattr(importlib.import_module(module), name), name
        assert name in dir(luxembedder)
    from luxembedder import MiningConfig, TrainConfig, embed, evaluate, load_encoder, mine, train  # noqa: F401

    assert callable(embed) and MiningConfig.__name__ == "MiningConfig"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        luxembedder.nothing  # noqa: B018


def test_embed(tiny_model_dir: Path) -> None:
    from luxembedder import embed, load_encoder

    texts = ["Moien, wéi geet et?", "Hello, how are you?", "Bonjour"]
    emb = embed(texts, model=tiny_model_dir)
    assert emb.shape[0] == 3 and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    enc = load_encoder(tiny_model_dir)
    np.testing.assert_allclose(embed(texts, model=enc), emb, atol=1e-6)
    one = embed("Bonjour", model=enc)
    assert one.shape == (emb.shape[1],)
    np.testing.assert_allclose(one, emb[2], atol=1e-6)


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_doc_snippets_import_the_public_api_from_the_package(doc: Path) -> None:
    for block in _python_blocks(doc):
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("luxembedder"):
                names = [a.name for a in node.names]
                if node.module != "luxembedder":
                    public = sorted(set(names) & set(PUBLIC))
                    assert not public, f"{doc.name}: import {public} from luxembedder, not {node.module}"
                exec(compile(ast.Module([node], []), doc.name, "exec"), {})  # the names exist
