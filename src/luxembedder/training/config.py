"""Typed training configuration (:class:`TrainConfig`), loadable from YAML (``configs/train.yaml``).

The paper does not publish its loss or hyper-parameters (see ``../shared/docs/paper-notes.md``); the defaults
here are the sentence-transformers conventions for translation pairs: the symmetric in-batch-negatives loss
(LaBSE's bidirectional translation ranking), scale 20 (temperature 0.05), learning rate 2e-5, warm-up 10 %.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from luxembedder.config import BaseConfig
from luxembedder.datasets.pairs import PAIR_SCORE_COLUMN

LossName = Literal["mnrl", "mnrl-symmetric", "cached-mnrl", "gist"]
Objective = Literal["contrastive", "distill"]
ReportTo = Literal["tensorboard", "wandb"]
EditName = Literal["swap_entities", "swap_numbers", "change_number", "change_date", "negation", "swap_sides"]
ALL_EDITS: tuple[str, ...] = (
    "swap_sides", "negation", "swap_numbers", "change_date", "change_number", "swap_entities",
)
_PAIR_RE = re.compile(r"^[a-z]{2,3}-[a-z]{2,3}$")


def check_pair_name(value: str) -> str:
    """A language-pair name such as ``lb-en``, ``lb-fr`` or ``en-fr`` (two ISO 639 codes, different)."""
    v = value.strip().lower()
    if not _PAIR_RE.match(v):
        raise ValueError(f"language pair '{value}' must look like 'lb-en' (two ISO 639 codes joined by '-')")
    a, b = v.split("-")
    if a == b:
        raise ValueError(f"language pair '{value}' names the same language twice")
    return v


class SourceOptions(BaseConfig):
    """How one training source is used: its objective, loss weight and size.

    ``contrastive``: the configured in-batch-negatives loss on (Luxembourgish, other) pairs. ``distill``:
    multilingual knowledge distillation (Reimers & Gurevych 2020): a frozen teacher embeds the
    high-resource side once; the student learns student(lb) ≈ teacher(xx) and student(xx) ≈ teacher(xx)
    with an MSE loss. ``weight`` multiplies the loss of this source's batches; ``max_rows`` keeps a seeded
    random subset (after deduplication and the leakage check), which also sets its share of the batches
    (the proportional multi-dataset sampler draws batches in proportion to each source's size).
    """

    objective: Objective = "contrastive"
    weight: float = Field(1.0, gt=0, description="loss weight of this source's batches")
    max_rows: int | None = Field(None, ge=2, description="use a seeded random subset of at most N rows")


class PairSource(SourceOptions):
    """One source of training pairs.

    ``path`` is a pair file (JSONL/JSON/Parquet/CSV/TSV with ``text_1``, ``text_2``, optional ``cos_sim``),
    a mining run directory (its ``pairs/<pair>.jsonl`` files are all used, each with its own pair name), or
    a ``datasets`` directory written by ``Dataset.save_to_disk``. ``pair`` is inferred from a file name such
    as ``lb-en.jsonl`` when not given. Rows whose ``score_column`` is below ``min_score`` are dropped on load.
    """

    type: Literal["pairs"] = "pairs"
    path: Path
    pair: str | None = None
    min_score: float | None = None
    score_column: str = PAIR_SCORE_COLUMN

    @field_validator("pair")
    @classmethod
    def _pair(cls, v: str | None) -> str | None:
        return None if v is None else check_pair_name(v)


def _lb_pairs(v: list[str]) -> list[str]:
    out = [check_pair_name(p) for p in v]
    bad = [p for p in out if not p.startswith("lb-")]
    if bad or not out:
        raise ValueError(f"pairs must be non-empty and of the form 'lb-xx' (got {v})")
    return out


class NtrexSource(SourceOptions):
    """NTREX-128 human translations (news): lb paired with en, fr, de and/or nl, line by line.

    ``holdout_documents``: the last K of its 123 documents are left out (development data; mine the NTREX
    benchmark with ``collection.max_documents: 123 - K`` to keep them out of mined pairs as well).
    """

    type: Literal["ntrex"]
    pairs: list[str] = Field(default_factory=lambda: ["lb-en", "lb-fr", "lb-de", "lb-nl"])
    holdout_documents: int = Field(0, ge=0)

    _check_pairs = field_validator("pairs")(classmethod(lambda cls, v: _lb_pairs(v)))


class Sib200Source(SourceOptions):
    """SIB-200 ``ltz_Latn`` train (and optionally dev) rows paired with the same rows in other languages.

    These are FLORES-200 sentences: rows that are also FLORES-200 devtest lines are dropped by the leakage
    check against the evaluation sets. Keep ``dev`` out when SIB-200 dev is used for model selection.
    """

    type: Literal["sib200"]
    pairs: list[str] = Field(default_factory=lambda: ["lb-en", "lb-fr", "lb-de"])
    splits: list[Literal["train", "dev"]] = Field(default_factory=lambda: ["train"], min_length=1)

    _check_pairs = field_validator("pairs")(classmethod(lambda cls, v: _lb_pairs(v)))


class LetzSource(SourceOptions):
    """LETZ lexical pairs (CC BY 4.0): a Luxembourgish dictionary sentence and a word it contains a synonym
    of (``SYN``) or translates (``WoT``, words in ``languages``); class-0 words as hard negatives with
    ``negatives: true``. Contrastive only (there is no high-resource sentence to distil from)."""

    type: Literal["letz"]
    subsets: list[Literal["SYN", "WoT"]] = Field(default_factory=lambda: ["SYN", "WoT"], min_length=1)
    split: Literal["train", "val", "test"] = "train"
    languages: list[str] = Field(default_factory=lambda: ["en", "fr", "de", "pt"], min_length=1,
                                 description="languages of the WoT words to use")
    negatives: bool = False

    @model_validator(mode="after")
    def _contrastive_only(self) -> LetzSource:
        if self.objective != "contrastive":
            raise ValueError("a letz source supports only objective 'contrastive' (its second text is a word, "
                             "not a sentence a teacher could embed)")
        return self


TrainSource = Annotated[PairSource | NtrexSource | Sib200Source | LetzSource, Field(discriminator="type")]


class HardNegativeConfig(BaseConfig):
    """Rule-based hard negatives (minimal meaning-changing edits, ParaLux style) as a third column.

    ``side`` chooses which text of a pair is edited: ``first`` (the Luxembourgish side in LuxAlign files,
    which mirrors ParaLux: anchor vs. a minimal edit of itself), ``second``, or ``either`` (first, then the
    second when no edit applies to the first). Pairs where no edit applies stay plain pairs.
    """

    enabled: bool = False
    edits: list[EditName] = Field(default_factory=lambda: list(ALL_EDITS))
    side: Literal["first", "second", "either"] = "first"
    seed: int = 0


class TrainConfig(BaseConfig):
    """Everything that defines a training run; saved resolved as ``train_config.yaml`` beside the model."""

    model: str = "me5-small"
    pairs: list[PairSource] = Field(default_factory=list)
    sources: list[TrainSource] = Field(default_factory=list, description=(
        "more training sources, each with its objective and weight: type pairs (a file), ntrex, sib200, letz"))
    teacher: str | None = Field("base", description=(
        "teacher of the distill objective: 'base' (the base model itself, frozen), or any model reference"))
    teacher_cache: Path | None = Field(None, description=(
        "where teacher embeddings are cached (default: <models home>/cache/teacher)"))
    output_dir: Path | None = None

    loss: LossName = "mnrl-symmetric"
    scale: float = Field(20.0, gt=0, description="Similarity scale (1/temperature) of the MNRL losses.")
    guide_model: str | None = Field(None, description="Guide model reference, required for loss 'gist'.")
    gist_temperature: float = Field(0.01, gt=0)
    cached_mini_batch_size: int = Field(16, ge=1, description="Mini-batch size of cached-mnrl (GradCache).")
    gather_across_devices: bool = Field(True, description="Share in-batch negatives across DDP processes.")

    batch_size: int = Field(32, ge=2)
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="Stop after this many optimizer steps (-1: run the epochs).")
    lr: float = Field(2e-5, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, le=1)
    weight_decay: float = Field(0.01, ge=0)
    seed: int = 42
    multi_dataset_sampler: Literal["round_robin", "proportional"] = "proportional"
    no_duplicates: bool = True
    length_grouping: bool = Field(False, description=(
        "Batch rows of similar length (less padding, faster on CPU); keeps the no-duplicates guarantee."))
    length_group_batches: int = Field(16, ge=1, description="Batches per length-sorted group (length_grouping).")
    hard_negatives: HardNegativeConfig = Field(default_factory=HardNegativeConfig)

    freeze_embeddings: bool = Field(False, description="Freeze the token-embedding table.")
    freeze_layers: int = Field(0, ge=0, description=(
        "Freeze the whole embedding block and the lowest N transformer layers: no gradients flow below "
        "layer N, so the backward pass costs only the upper layers."))
    bf16: bool = Field(False, description="bf16 autocast; honoured only on a CPU with native bf16 or CUDA.")
    gradient_checkpointing: bool = False
    max_seq_length: int | None = Field(None, ge=8)
    threads: int | None = Field(None, ge=1, description="torch intra-op threads (default: torch's choice).")

    report_to: list[ReportTo] = Field(default_factory=list, description=(
        "experiment trackers for the training logs (tensorboard, wandb), passed to the trainer"))

    leakage_check: bool = Field(True, description="Drop pairs whose text is in an exclusion file.")
    exclude_evaluation_sets: bool = Field(True, description=(
        "also drop pairs with a text of an evaluation set in the data directory: FLORES-200 devtest, SIB-200 "
        "test, Tatoeba, ParaLux, ParaLux-dev (datasets.parallel.evaluation_texts)"))
    exclude_files: list[Path] | None = Field(
        None, description="Texts never to train on (default: ParaLux-dev and the ParaLux benchmark list in "
        "the data directory, as the paper drops ParaLux sentences from its mined pairs).",
    )

    dev_fraction: float = Field(0.05, ge=0, lt=1, description="Share of each pair set held out for dev.")
    dev_size: int | None = Field(None, ge=0, description="Held-out pairs per pair set (overrides fraction).")
    dev_max: int = Field(500, ge=0, description="Upper bound on held-out pairs per pair set.")
    dev_seed: int = 13
    eval_steps: int | None = Field(None, ge=1, description="Evaluate every N steps (default: each epoch).")
    save_steps: int | None = Field(None, ge=1, description="Checkpoint every N steps (default: each epoch).")
    save_total_limit: int = Field(2, ge=1)
    early_stopping_patience: int | None = Field(None, ge=1)
    logging_steps: int = Field(10, ge=1)
    resume: bool = False
    keep_checkpoints: bool = False

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.loss == "gist" and not self.guide_model:
            raise ValueError("loss 'gist' needs guide_model (a model reference)")
        if self.early_stopping_patience is not None and self.dev_fraction == 0 and not self.dev_size:
            raise ValueError("early_stopping_patience needs a dev split (dev_fraction or dev_size > 0)")
        distill = [f"sources[{i}] ({s.type})" for i, s in enumerate(self.sources) if s.objective == "distill"]
        distill += [f"pairs[{i}]" for i, s in enumerate(self.pairs) if s.objective == "distill"]
        if distill and not self.teacher:
            raise ValueError(f"{', '.join(distill)} use objective 'distill' but no teacher is set "
                             "(teacher: base, or a model reference)")
        return self

    @property
    def teacher_model(self) -> str | None:
        """The teacher's model reference (``teacher: base`` means the base model itself), or None."""
        return self.model if self.teacher == "base" else self.teacher

    @property
    def all_sources(self) -> list[PairSource | NtrexSource | Sib200Source | LetzSource]:
        """``pairs`` followed by ``sources``."""
        return [*self.pairs, *self.sources]
