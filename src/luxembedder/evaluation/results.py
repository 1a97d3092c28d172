"""Result records: one per model × task × subset × protocol, validated, with provenance.

``results.json`` is ``{"schema": "luxembedder.results/1", "records": [...]}``; every record names the model,
the task, the subset (e.g. ``tatoeba:eng-ltz:challenge``), the protocol (e.g.
``top1-cosine-text-match/mean-both-directions``), the main score as a fraction in [0, 1], its 95% bootstrap
interval, all metrics, the number of items, the data files with their sha256, the seed, library versions
and the seconds it took. ``items`` optionally keeps the per-item main scores for paired tests.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from luxembedder.errors import ConfigError, DataError
from luxembedder.utils.io import atomic_write_json

logger = logging.getLogger(__name__)

SCHEMA_ID = "luxembedder.results/1"


class DataFile(BaseModel):
    """A data file a score was computed on."""

    model_config = ConfigDict(extra="forbid")

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    pinned: bool | None = None


class ResultRecord(BaseModel):
    """One score with everything needed to reproduce and compare it."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(min_length=1)
    task: str = Field(min_length=1)
    subset: str = "default"
    protocol: str = Field(min_length=1)
    main_metric: str = "accuracy"
    main_score: float = Field(ge=0.0, le=1.0)
    ci95: tuple[float, float] | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    n: int = Field(ge=0)
    data: list[DataFile] = Field(default_factory=list)
    seed: int | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    seconds: float = Field(ge=0.0, default=0.0)
    created: str | None = None
    items: list[float] | None = None
    # provenance of the model and the run (absent in records written before these fields existed)
    model_path: str | None = Field(None, description="folder or hub id the model resolved to")
    base_model: str | None = Field(None, description="the model it was fine-tuned from, when known")
    toolkit_commit: str | None = Field(None, description="git commit of the luxembedder source, when a checkout")
    command: str | None = Field(None, description="the command line that produced the record")
    config: dict[str, Any] | None = Field(None, description="the task's resolved configuration")

    @field_validator("ci95")
    @classmethod
    def _ci_ok(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is None:
            return v
        lo, hi = v
        if any(math.isnan(x) for x in v):
            return None
        if not (0.0 <= lo <= hi <= 1.0):
            raise ValueError(f"ci95 must satisfy 0 <= low <= high <= 1, got {v}")
        return v

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.model, self.task, self.subset, self.protocol)


def results_json_schema() -> dict[str, Any]:
    """JSON Schema of a results file (for external validators)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "type": "object",
        "required": ["schema", "records"],
        "properties": {
            "schema": {"const": SCHEMA_ID},
            "records": {"type": "array", "items": ResultRecord.model_json_schema()},
        },
    }


def validate_record(obj: dict[str, Any], source: str = "<record>", index: int | None = None) -> ResultRecord:
    """Validate one record dict; errors name the file, the record index and the field."""
    try:
        return ResultRecord.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise DataError(f"invalid result record: {err['msg']}", source,
                        None if index is None else index + 1, field) from None


def load_results(path: str | Path) -> list[ResultRecord]:
    """Read and validate a ``results.json`` (also accepts a bare list of records)."""
    p = Path(path)
    if not p.is_file():
        raise DataError("results file not found", p)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"malformed JSON: {exc.msg}", p, exc.lineno) from None
    if isinstance(data, dict):
        if data.get("schema") not in (None, SCHEMA_ID):
            raise DataError(f"unknown results schema {data.get('schema')!r} (expected {SCHEMA_ID})", p,
                            field="schema")
        data = data.get("records")
    if not isinstance(data, list):
        raise DataError("expected a list of records (or {schema, records})", p, field="records")
    return [validate_record(r, str(p), i) for i, r in enumerate(data)]


def save_results(path: str | Path, records: list[ResultRecord]) -> Path:
    """Write records atomically as ``{schema, records}``."""
    return atomic_write_json(path, {"schema": SCHEMA_ID,
                                    "records": [r.model_dump(mode="json") for r in records]})


def merge_results(old: list[ResultRecord], new: list[ResultRecord]) -> list[ResultRecord]:
    """``old`` with records of the same key replaced by ``new`` (order kept, new ones appended)."""
    by_key = {r.key: r for r in new}
    out = [by_key.pop(r.key, r) for r in old]
    out.extend(r for r in new if r.key in by_key)
    return out


def resolve_model_name(records: list[ResultRecord], ref: str, source: str = "results") -> str:
    """The model name in ``records`` that ``ref`` designates: the exact name, or, when exactly one name has it,
    the part before ``@`` (the folder name of ``folder@fingerprint``). Raises :class:`ConfigError` otherwise."""
    names = list(dict.fromkeys(r.model for r in records))
    if ref in names:
        return ref
    hits = [n for n in names if n.split("@", 1)[0] == ref]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise ConfigError(f"{source}: model {ref!r} matches {len(hits)} models ({', '.join(hits)})")
    raise ConfigError(f"{source}: no records for model {ref!r}; models there: {', '.join(names)}")
