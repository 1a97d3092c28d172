"""Task base classes, mteb-style: a :class:`TaskMetadata` that drives behaviour, and one registry.

A task loads its data (validated, with sha256 provenance), declares every text it needs
(:meth:`Task.texts`, so a runner can encode each text once per model across tasks), and turns an encoder
into :class:`~luxembedder.evaluation.results.ResultRecord` objects, one per subset and protocol.

The metadata is read, not decorative: ``main_score`` names every record's main metric, ``protocol`` is the
protocol of records that do not set their own, ``languages`` validate configured languages, ``data_files``
with a ``sha256`` pin the default files (a differing file is an error, or a warning without
``strict_data``), ``type`` names the type class that owns the evaluation loop, and ``mteb`` says where a
record goes in an MTEB export. The registry (:data:`TASKS`, filled by :func:`register`) is keyed by
``metadata.name`` and feeds ``get_task``, the CLI help and the MTEB export; user-file tasks register their
spec kind (``bitext:``, ``triplets:``, ``classification:``) with :func:`register_user_task`.
"""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from luxembedder.config import BaseConfig
from luxembedder.datasets import benchmarks as B
from luxembedder.errors import ConfigError, DataError
from luxembedder.evaluation.results import ResultRecord
from luxembedder.evaluation.stats import bootstrap_ci
from luxembedder.models.encoder import Encoder, encode_texts
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.provenance import now_iso, versions

logger = logging.getLogger(__name__)

LANG_PATTERN = r"^[a-z]{3}_[A-Z][a-z]{3}$"

TaskType = Literal["bitext-retrieval", "classification", "zeroshot-classification", "triplets"]


class DataFileSpec(BaseConfig):
    """A file (or folder, ending in ``/``) a task reads, relative to the data dir; ``sha256`` pins a file."""

    path: str = Field(min_length=1)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class MtebSlot(BaseConfig):
    """Where records of this task go in an MTEB export (``None`` in metadata: the task has no MTEB twin)."""

    task_name: str = Field(min_length=1, description="the MTEB task name, e.g. SIB200Classification")
    split: str = "test"
    task_type: str = Field(min_length=1, description="the MTEB task type, e.g. BitextMining")
    subsets: list[str] | None = Field(None, description="the subsets the MTEB task has (None: any)")


class TaskMetadata(BaseConfig):
    """What a task measures and on which data (mteb-style; unknown keys are errors)."""

    name: str = Field(min_length=1)
    type: TaskType = "classification"
    protocol: str = Field(min_length=1, description="the main protocol, as printed beside every score")
    description: str
    languages: list[str] = Field(min_length=1, description="xxx_Scrpt codes")
    main_score: str = Field("accuracy", description="the metric every record's main_score is")
    data_files: list[DataFileSpec] = Field(default_factory=list, description="files read (data-dir relative)")
    data_source: str = ""
    reference: str | None = None
    mteb: list[MtebSlot] = Field(default_factory=list, description="MTEB tasks its records can be exported to")

    @field_validator("data_files", mode="before")
    @classmethod
    def _files(cls, v: Any) -> Any:
        return [{"path": x} if isinstance(x, str) else x for x in v] if isinstance(v, list) else v

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if not re.match(LANG_PATTERN, x)]
        if bad:
            raise ValueError(f"languages must look like ltz_Latn, got {bad}")
        return v

    @property
    def main_metric(self) -> str:  # the earlier field name
        return self.main_score

    def pinned(self) -> dict[str, str]:
        """``{relative path: sha256}`` of the files the metadata pins."""
        return {f.path: f.sha256 for f in self.data_files if f.sha256}


class EvalSettings(BaseConfig):
    """Settings shared by every task."""

    seed: int = 42
    bootstrap_samples: int = Field(1000, ge=100, description="resamples for the 95% bootstrap intervals")
    strict_data: bool = Field(True, description="a sha256 differing from MANIFEST.tsv is an error (else a warning)")
    keep_items: bool = Field(True, description="store per-item scores in records (for paired tests)")


# ------------------------------------------------------------------------------------------ registry

TASKS: dict[str, type[Task]] = {}
"""Built-in tasks keyed by ``metadata.name`` (filled by :func:`register`)."""

USER_TASKS: dict[str, tuple[str, Callable[..., Task]]] = {}
"""User-file task kinds: ``kind -> (spec syntax, factory(spec, rest, settings, eval_settings))``."""


def register(cls: type[Task]) -> type[Task]:
    """Class decorator: add a built-in task to :data:`TASKS` under its metadata name."""
    name = cls.metadata.name
    if name in TASKS and TASKS[name] is not cls:
        raise ValueError(f"task {name!r} registered twice")
    TASKS[name] = cls
    ordered = sorted(TASKS.items(), key=lambda kv: kv[1].suite_order)  # stable: ties keep registration order
    TASKS.clear()
    TASKS.update(ordered)
    return cls


def register_user_task(kind: str, syntax: str) -> Callable[[Callable[..., Task]], Callable[..., Task]]:
    """Decorator: a factory for ``kind:...`` specs, shown as ``syntax`` in help and errors."""

    def deco(factory: Callable[..., Task]) -> Callable[..., Task]:
        USER_TASKS[kind] = (syntax, factory)
        return factory

    return deco


def task_class_for(task_name: str) -> type[Task] | None:
    """The registered class of a record's task name (built-in name or user-file ``kind:...``)."""
    if task_name in TASKS:
        return TASKS[task_name]
    kind = task_name.partition(":")[0]
    factory = USER_TASKS.get(kind, (None, None))[1]
    return getattr(factory, "task_class", None)


# ------------------------------------------------------------------------------------------ base


class Task(ABC):
    """Base class: subclasses set ``metadata`` and implement ``load``; type classes own ``_texts``/``_evaluate``."""

    metadata: ClassVar[TaskMetadata]
    config_key: ClassVar[str | None] = None  # the SuiteConfig section of a built-in task
    suite_order: ClassVar[int] = 100  # position in the default suite (registry order)
    in_default_suite: ClassVar[bool] = True  # run when no task is named
    spec: str
    _file_name: str | None = None  # user-file tasks: set by load(), see ``name``

    def __init__(self, settings: Settings | None = None, eval_settings: EvalSettings | None = None) -> None:
        self.settings = settings or get_settings()
        self.eval = eval_settings or EvalSettings()
        self._loaded = False
        self._files: dict[str, list[Path]] = {}
        if not hasattr(self, "spec"):
            self.spec = self.metadata.name

    @classmethod
    def from_suite(cls, settings: Settings | None, suite: Any) -> Task:
        """The task configured by its section of a :class:`SuiteConfig` (``config_key``)."""
        section = getattr(suite, cls.config_key) if cls.config_key else None
        return cls(settings, suite.eval, section) if section is not None else cls(settings, suite.eval)

    @property
    def name(self) -> str:
        """The name results are stored under: the spec, or for user-file tasks (after loading) a short
        name from the file names and their content hashes, so results do not depend on where the files lie
        and an edited file is never mistaken for the one already scored."""
        return self._file_name or self.spec

    def _set_file_name(self, kind: str, *parts: str | Path) -> None:
        """Name a user-file task ``KIND:FILE@SHA8[:FILE@SHA8...][:COL...]`` (paths become file names; the
        memoised hash is the one the records' provenance uses)."""
        shown = [f"{p.name}@{B.file_sha256(p)[:8]}" if isinstance(p, Path) else p for p in parts]
        self._file_name = ":".join([kind, *shown])

    def data_dir(self) -> Path:
        return self.settings.require_data_dir()

    def check_languages(self, langs: Sequence[str], what: str) -> None:
        """Configured languages must be among the metadata's (``xxx`` matches ``xxx_Scrpt``)."""
        known = set(self.metadata.languages) | {x.split("_")[0] for x in self.metadata.languages}
        bad = [x for x in langs if x not in known]
        if bad:
            raise ConfigError(f"task {self.spec}: {what} {bad} not among the task's languages "
                              f"({', '.join(self.metadata.languages)})")

    def ensure_loaded(self) -> None:
        if not self._loaded:
            self.load()
            self._check_pins()
            self._loaded = True

    def _check_pins(self) -> None:
        """The metadata's sha256 pins hold for the published data (a data dir with MANIFEST.tsv)."""
        pins = self.metadata.pinned()
        if not pins or self.settings.data_dir is None or not (Path(self.settings.data_dir) / "MANIFEST.tsv").is_file():
            return
        root = Path(self.settings.data_dir).resolve()
        for p in {p for files in self._files.values() for p in files}:
            try:
                rel = Path(p).resolve().relative_to(root).as_posix()
            except ValueError:
                continue
            want = pins.get(rel)
            if want and B.file_sha256(p) != want:
                msg = f"sha256 differs from the one task {self.metadata.name} pins ({want[:12]}…): the data changed"
                if self.eval.strict_data:
                    raise DataError(msg, p)
                logger.warning("%s: %s", p, msg)

    @abstractmethod
    def load(self) -> None:
        """Read and validate the data (raises MissingDataError / DataError)."""

    @abstractmethod
    def _texts(self) -> list[str]: ...

    def texts(self) -> list[str]:
        """Every text the task will encode (after loading)."""
        self.ensure_loaded()
        return self._texts()

    def evaluate(self, encoder: Encoder, batch_size: int = 32) -> list[ResultRecord]:
        """Score ``encoder``: one record per subset and protocol."""
        self.ensure_loaded()
        return self._evaluate(encoder, batch_size)

    @abstractmethod
    def _evaluate(self, encoder: Encoder, batch_size: int) -> list[ResultRecord]: ...

    def data_files(self) -> list[dict[str, Any]]:
        """``{path, sha256[, pinned]}`` of every file the task read (checked against MANIFEST.tsv pins)."""
        self.ensure_loaded()
        paths = list(dict.fromkeys(p for files in self._files.values() for p in files))
        return B.data_provenance(paths, self.settings.data_dir, strict=self.eval.strict_data)

    # MTEB export --------------------------------------------------------------------------------
    @classmethod
    def mteb_scores(cls, record: ResultRecord) -> list[tuple[MtebSlot, dict[str, Any]]] | str:
        """``[(slot, scores entry)]`` for an MTEB export of ``record``, or why it has none (a warning)."""
        return f"task {record.task} has no MTEB counterpart"

    # helpers ---------------------------------------------------------------------------------
    def _embed(self, encoder: Encoder, texts: Sequence[str], batch_size: int) -> np.ndarray:
        return encode_texts(encoder, list(texts), batch_size=batch_size)

    def _provenance(self, subset: str) -> list[dict[str, Any]]:
        data_dir = self.settings.data_dir
        return B.data_provenance(self._files.get(subset, []), data_dir, strict=self.eval.strict_data)

    def _record(self, encoder: Encoder, subset: str, protocol: str | None, items: np.ndarray,
                metrics: dict[str, Any], started: float, main_score: float | None = None,
                files_key: str | None = None, ci: bool = True) -> ResultRecord:
        items = np.asarray(items, dtype=np.float64)
        score = float(items.mean()) if main_score is None else float(main_score)
        ci95 = bootstrap_ci(items, n=self.eval.bootstrap_samples, seed=self.eval.seed) if ci and items.size else None
        return ResultRecord(
            model=encoder.name, task=self.name, subset=subset, protocol=protocol or self.metadata.protocol,
            main_metric=self.metadata.main_score, main_score=min(1.0, max(0.0, score)), ci95=ci95,
            metrics=metrics, n=int(items.size), data=self._provenance(files_key or subset), seed=self.eval.seed,
            versions=versions(), seconds=round(time.perf_counter() - started, 4), created=now_iso(),
            items=[round(float(x), 4) for x in items] if self.eval.keep_items else None,
        )
