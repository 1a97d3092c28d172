"""``luxembedder demo``: the whole recipe on the embedded default, within minutes on 2 CPU cores.

With the shared data present the collection is the NTREX-128 comparable-news benchmark and the
evaluation is the real suite; without it, the bundled sample and bundled evaluation sets. ``quick``
shrinks every stage for a smoke run (under 2 minutes with a small model).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from luxembedder.errors import ConfigError
from luxembedder.recipe.config import RecipeConfig


def packaged_config(name: str) -> Path:
    """Path of a config shipped with the package (``demo``, ``offline``, ``paper``)."""
    path = Path(str(resources.files("luxembedder") / "resources" / "configs" / f"{name}.yaml"))
    if not path.is_file():
        raise ConfigError(f"no packaged config named '{name}' ({path})")
    return path


def quick_overrides(cfg: RecipeConfig) -> RecipeConfig:
    """Shrink a recipe for a smoke run: 8 NTREX documents, 12 training steps, SIB-200 zero-shot only.

    Layer freezing is replaced by a frozen token table, so that any base model (a 2-layer test model too) runs.
    """
    cfg = cfg.model_copy(deep=True)
    cfg.collection.max_documents = 8
    cfg.training.max_steps = 12
    if cfg.training.freeze_layers:
        cfg.training.freeze_layers = 0
        cfg.training.freeze_embeddings = True
    cfg.training.batch_size = 16
    cfg.training.eval_steps = None
    cfg.training.save_steps = None
    cfg.evaluation.tasks = ["sib200-zeroshot"]
    cfg.evaluation.sample_tasks = ["sample-bitext-lb-en", "sample-paraphrase"]
    cfg.evaluation.suite.sib200_zeroshot.templates = cfg.evaluation.suite.sib200_zeroshot.templates[:2]
    cfg.evaluation.suite.eval.bootstrap_samples = 200
    cfg.name = cfg.name + "-quick"
    return cfg


def demo_config(quick: bool = False, model: str | None = None, config: str | Path | None = None) -> RecipeConfig:
    """The demo recipe (``configs/demo.yaml``), optionally quick and with another base model."""
    cfg = RecipeConfig.from_yaml(config or packaged_config("demo"))
    if model:
        cfg = cfg.model_copy(update={"base_model": model})
    return quick_overrides(cfg) if quick else cfg
