"""Benchmark tasks with validated metadata, in the spirit of mteb's task classes.

- :mod:`.base`: :class:`TaskMetadata` (drives main score, protocol, languages, pinned data files, MTEB slots),
  :class:`Task`, the registry (:data:`TASKS`, keyed by metadata name; :data:`USER_TASKS` for file specs).
- :mod:`.types`: the type classes that own the evaluation loop (bitext retrieval, classification/transfer,
  zero-shot classification, triplets).
- One small module per family: :mod:`.sib200`, :mod:`.bitext` (Luxembourgish), :mod:`.paralux`,
  :mod:`.tatoeba_lrl`, :mod:`.user_files`.

Built-in tasks and user-file specs: :func:`task_help` (also the CLI's ``--task`` help). Get one with
:func:`get_task`.
"""

from __future__ import annotations

from pydantic import Field

from luxembedder.config import BaseConfig
from luxembedder.errors import ConfigError
from luxembedder.evaluation.tasks.base import (
    LANG_PATTERN,
    TASKS,
    USER_TASKS,
    DataFileSpec,
    EvalSettings,
    MtebSlot,
    Task,
    TaskMetadata,
    register,
    register_user_task,
    task_class_for,
)
from luxembedder.evaluation.tasks.bitext import BitextLtz, BitextLtzConfig
from luxembedder.evaluation.tasks.flores import FloresBitext, FloresBitextConfig
from luxembedder.evaluation.tasks.paralux import TripletTask
from luxembedder.evaluation.tasks.sib200 import (
    SIB_CATEGORIES,
    Sib200Transfer,
    Sib200ZeroShot,
    SibTransferConfig,
    SibZeroShotConfig,
    mteb_undersample,
)
from luxembedder.evaluation.tasks.tatoeba_lrl import BitextLrl, BitextLrlConfig
from luxembedder.evaluation.tasks.types import (
    BitextRetrievalTask,
    BitextSet,
    ClassificationTask,
    TripletsTask,
    ZeroShotClassificationTask,
    fit_predict,
)
from luxembedder.evaluation.tasks.user_files import BitextFileTask, ClassificationFileTask
from luxembedder.settings import Settings

BUILTIN_TASKS = TASKS  # the earlier name


class SuiteConfig(BaseConfig):
    """Configuration of the whole suite (loadable from YAML; each section optional)."""

    eval: EvalSettings = Field(default_factory=EvalSettings)
    sib200_zeroshot: SibZeroShotConfig = Field(default_factory=SibZeroShotConfig)
    sib200_transfer: SibTransferConfig = Field(default_factory=SibTransferConfig)
    bitext_ltz: BitextLtzConfig = Field(default_factory=BitextLtzConfig)
    bitext_lrl: BitextLrlConfig = Field(default_factory=BitextLrlConfig)
    paralux_path: str | None = None


def available_tasks() -> list[str]:
    """Names of the built-in tasks (registry order)."""
    return list(TASKS)


def default_tasks() -> list[str]:
    """The built-in tasks ``luxembedder eval`` runs when no task is named."""
    return [name for name, cls in TASKS.items() if cls.in_default_suite]


def user_task_syntax() -> list[str]:
    return [syntax for syntax, _ in USER_TASKS.values()]


def task_help() -> str:
    """One line for ``--task`` help and errors: built-in names, then the user-file specs."""
    return f"{', '.join(available_tasks())}, or {', '.join(user_task_syntax())}"


def get_task(spec: str, settings: Settings | None = None, config: SuiteConfig | None = None) -> Task:
    """A task from its registered name or a user-file spec (``bitext:PATH:SRC:TGT``, ``triplets:PATH``,
    ``classification:TRAIN:TEST``)."""
    cfg = config or SuiteConfig()
    if spec in TASKS:
        return TASKS[spec].from_suite(settings, cfg)
    kind, _, rest = spec.partition(":")
    if not rest:
        raise ConfigError(f"unknown task {spec!r}: built-in tasks are {', '.join(TASKS)}; user tasks "
                          f"are {', '.join(user_task_syntax())}")
    if kind not in USER_TASKS:
        raise ConfigError(f"unknown task kind {kind!r} in {spec!r} ({', '.join(USER_TASKS)})")
    return USER_TASKS[kind][1](spec, rest, settings, cfg.eval)


__all__ = [
    "BUILTIN_TASKS",
    "LANG_PATTERN",
    "SIB_CATEGORIES",
    "TASKS",
    "USER_TASKS",
    "BitextFileTask",
    "BitextLrl",
    "BitextLrlConfig",
    "BitextLtz",
    "BitextLtzConfig",
    "BitextRetrievalTask",
    "BitextSet",
    "ClassificationFileTask",
    "ClassificationTask",
    "DataFileSpec",
    "EvalSettings",
    "FloresBitext",
    "FloresBitextConfig",
    "MtebSlot",
    "Sib200Transfer",
    "Sib200ZeroShot",
    "SibTransferConfig",
    "SibZeroShotConfig",
    "SuiteConfig",
    "Task",
    "TaskMetadata",
    "TripletTask",
    "TripletsTask",
    "ZeroShotClassificationTask",
    "available_tasks",
    "default_tasks",
    "fit_predict",
    "get_task",
    "mteb_undersample",
    "register",
    "register_user_task",
    "task_class_for",
    "task_help",
    "user_task_syntax",
]
