"""One YAML file for the whole recipe: collection → mining → training → evaluation → report."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from luxembedder.config import BaseConfig
from luxembedder.evaluation.tasks import SuiteConfig
from luxembedder.mining.config import MiningConfig
from luxembedder.training.config import TrainConfig


class CollectionConfig(BaseConfig):
    """Where the multilingual news articles come from.

    ``auto``: the NTREX-128 comparable-news benchmark when the data directory exists, else the bundled
    sample. ``ntrex``/``sample`` force one of them; ``files`` mines the user's own ``articles``.
    """

    source: Literal["auto", "ntrex", "sample", "files"] = "auto"
    articles: list[Path] = Field(default_factory=list, description="article files for source 'files'")
    gold: Path | None = Field(None, description="optional gold alignments (gold.jsonl) for source 'files'")
    seed: int = Field(0, description="seed of the NTREX benchmark generator")
    max_documents: int | None = Field(None, ge=2, description="use only the first N NTREX documents")
    lenient: bool = Field(False, description="quarantine malformed article rows instead of stopping")


class EvaluationSection(BaseConfig):
    """Which tasks, which comparison rows; ``suite`` holds the tasks' own settings."""

    tasks: list[str] = Field(
        default_factory=lambda: ["sib200-zeroshot", "sib200-transfer", "bitext-ltz", "paralux"],
        description="built-in task names or user-file specs; used when the data directory exists",
    )
    sample_tasks: list[str] = Field(
        default_factory=lambda: ["sample-bitext-lb-en", "sample-bitext-lb-fr", "sample-topics-transfer",
                                 "sample-topics", "sample-paraphrase"],
        description="tasks on the bundled evaluation sets, used without the data directory",
    )
    baselines: list[str] = Field(default_factory=list, description="extra comparison rows (e.g. minilm-en)")
    batch_size: int = Field(32, ge=1)
    suite: SuiteConfig = Field(default_factory=SuiteConfig)


class RecipeConfig(BaseConfig):
    """The LuxEmbedder recipe in one file (see ``configs/*.yaml``)."""

    name: str = "luxembedder"
    base_model: str = Field("me5-small", description="registry name, local folder or hub id (online)")
    collection: CollectionConfig = Field(default_factory=CollectionConfig)
    mining: MiningConfig = Field(default_factory=MiningConfig)
    training: TrainConfig = Field(default_factory=TrainConfig)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
