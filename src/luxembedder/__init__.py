"""luxembedder: cross-lingual sentence embedders for Luxembourgish and other low-resource languages.

The Python API, one import away (each name is loaded on first use, so ``import luxembedder`` stays fast)::

    from luxembedder import MiningConfig, TrainConfig, embed, evaluate, load_encoder, mine, train

- :func:`mine` (articles -> mined pairs, :class:`MiningConfig`), :func:`train` (pairs -> fine-tuned model,
  :class:`TrainConfig`, :class:`PairSource`), :func:`evaluate` (models x tasks -> result records),
  :func:`embed` (texts -> vectors), :func:`load_encoder` / :func:`prepare_model` (models by registry name,
  folder or hub id), :func:`run_recipe` (everything from a :class:`RecipeConfig`), :func:`push` (a model or
  pairs folder to the Hugging Face hub).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from luxembedder._version import __version__

_LAZY: dict[str, str] = {
    "mine": "luxembedder.mining.pipeline",
    "MiningConfig": "luxembedder.mining.config",
    "train": "luxembedder.training.trainer",
    "TrainConfig": "luxembedder.training.config",
    "PairSource": "luxembedder.training.config",
    "evaluate": "luxembedder.evaluation.runner",
    "embed": "luxembedder.embedding",
    "load_encoder": "luxembedder.models.registry",
    "prepare_model": "luxembedder.models.registry",
    "run_recipe": "luxembedder.recipe.run",
    "RecipeConfig": "luxembedder.recipe.config",
    "push": "luxembedder.hub",
    "get_settings": "luxembedder.settings",
}

__all__ = [
    "MiningConfig", "PairSource", "RecipeConfig", "TrainConfig", "__version__", "embed", "evaluate",
    "get_settings", "load_encoder", "mine", "prepare_model", "push", "run_recipe", "train",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from luxembedder.embedding import embed
    from luxembedder.evaluation.runner import evaluate
    from luxembedder.hub import push
    from luxembedder.mining.config import MiningConfig
    from luxembedder.mining.pipeline import mine
    from luxembedder.models.registry import load_encoder, prepare_model
    from luxembedder.recipe.config import RecipeConfig
    from luxembedder.recipe.run import run_recipe
    from luxembedder.settings import get_settings
    from luxembedder.training.config import PairSource, TrainConfig
    from luxembedder.training.trainer import train


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'luxembedder' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
