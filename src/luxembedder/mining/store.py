"""Stage outputs of a mining run: parquet tables and npy arrays, stage folders with fingerprints, and the
pair columns every pair file has (:mod:`luxembedder.datasets.pairs`, shared with training's readers).

The pipeline, the select stage and ``merge-runs`` read and write through this module only, so they no
longer import each other.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.datasets.pairs import PAIR_COLUMNS as PAIR_COLUMNS  # re-exported
from luxembedder.datasets.pairs import PAIR_TEXT_COLUMNS as PAIR_TEXT_COLUMNS
from luxembedder.utils.io import atomic_directory, atomic_write_bytes, atomic_write_json, atomic_write_npy

logger = logging.getLogger(__name__)



def fingerprint(*parts: Any) -> str:
    """16 hex chars identifying a stage's inputs (JSON of ``parts``, keys sorted)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def write_parquet(path: Path, columns: dict[str, Any]) -> Path:
    """Columns as a Parquet table, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return atomic_write_bytes(path, buf.getvalue())


def read_parquet(path: Path) -> dict[str, np.ndarray]:
    """A Parquet table as ``{column: array}``."""
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    return {c: t.column(c).to_numpy(zero_copy_only=False) for c in t.column_names}


def write_embeddings(path: Path, arr: np.ndarray) -> Path:
    """float32 ``.npy``, atomically."""
    return atomic_write_npy(path, np.ascontiguousarray(arr, dtype=np.float32))


def read_embeddings(path: Path, mmap: bool = False) -> np.ndarray:
    return np.load(path, mmap_mode="r" if mmap else None)


def stage_meta(stage_dir: Path) -> dict[str, Any] | None:
    """``_stage.json`` of a finished stage (None when missing or unreadable)."""
    meta = stage_dir / "_stage.json"
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def run_stage(run_dir: Path, name: str, fp: str, build: Callable[[Path], dict[str, Any]],
              activity: dict[str, list[str]]) -> tuple[Path, dict[str, Any]]:
    """Run ``build(tmp_dir) -> info`` unless ``stages/<name>`` holds the same fingerprint; atomic."""
    stage_dir = run_dir / "stages" / name
    meta = stage_meta(stage_dir)
    if meta is not None and meta.get("fingerprint") == fp:
        logger.info("%-8s up to date (fingerprint %s), skipped", name, fp)
        activity["skipped"].append(name)
        return stage_dir, meta.get("info", {})
    t0 = time.perf_counter()
    with atomic_directory(stage_dir) as tmp:
        info = build(tmp)
        info["seconds"] = round(time.perf_counter() - t0, 3)
        atomic_write_json(tmp / "_stage.json", {"stage": name, "fingerprint": fp, "info": info})
    logger.info("%-8s done in %.1fs: %s", name, info["seconds"], info.get("summary", ""))
    activity["run"].append(name)
    return stage_dir, info


def py_value(x: Any) -> Any:
    """A numpy scalar as a plain Python value for JSON rows (floats rounded to 6 places, NaN -> None)."""
    if isinstance(x, np.floating):
        return None if not np.isfinite(x) else round(float(x), 6)
    if isinstance(x, np.integer):
        return int(x)
    return x if not isinstance(x, np.str_) else str(x)


def pair_rows(columns: dict[str, np.ndarray], rows: np.ndarray) -> list[dict[str, Any]]:
    """JSON-ready pair records (:data:`PAIR_COLUMNS`) of ``rows``."""
    return [{k: py_value(columns[k][i]) for k in PAIR_COLUMNS} for i in rows]
