"""Run tasks for several models: each text encoded once per model, results saved after every task.

``results.json`` is rewritten atomically after each model × task, so an interrupted run resumes where it
stopped: model × task pairs already in the file are skipped unless ``force``; embeddings already computed
are read back from ``<out>/cache`` (a :class:`~luxembedder.models.cache.CachedEncoder` per model).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from luxembedder.evaluation.report import write_reports
from luxembedder.evaluation.results import ResultRecord, load_results, merge_results, save_results
from luxembedder.evaluation.tasks import SuiteConfig, Task, available_tasks, get_task
from luxembedder.models.adapters import CallableEncoder
from luxembedder.models.cache import CachedEncoder
from luxembedder.models.encoder import Encoder
from luxembedder.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def _as_encoder(model: Any, settings: Settings, bf16: bool, backend: str = "torch") -> Encoder:
    if isinstance(model, str | Path):
        from luxembedder.models.registry import load_encoder

        return load_encoder(str(model), settings, bf16=bf16, backend=backend)
    if isinstance(model, Encoder) and "batch_size" in inspect.signature(model.encode).parameters:
        return model
    if hasattr(model, "encode") or callable(model):
        return CallableEncoder(model, name=getattr(model, "name", None) or type(model).__name__)
    raise TypeError(f"cannot evaluate {model!r}: pass a model reference or an object with encode(texts)")


def _model_name(model: Any, settings: Settings, backend: str = "torch") -> str:
    if isinstance(model, str | Path):
        from luxembedder.models.backends import backend_suffix
        from luxembedder.models.registry import model_name

        return model_name(str(model), settings) + backend_suffix(backend)
    return getattr(model, "name", None) or type(model).__name__


def evaluate(
    models: Sequence[str | Path | Any],
    tasks: Sequence[str | Task] | None = None,
    out_dir: str | Path = "eval-results",
    settings: Settings | None = None,
    batch_size: int = 32,
    bf16: bool = False,
    force: bool = False,
    config: SuiteConfig | None = None,
    show_progress: bool = False,
    cache_shard_size: int = 1024,
    backend: str = "torch",
) -> list[ResultRecord]:
    """Evaluate every model on every task; returns all records in ``results.json`` (old and new).

    ``models`` are references (registry names, folders, hub ids when online) or objects with
    ``encode(texts)``; ``tasks`` are names/specs (default: all built-in) or :class:`Task` objects.
    Embeddings are cached in ``<out>/cache`` in shards of ``cache_shard_size`` texts (the resume unit).
    Writes ``results.json``, ``report.md``, ``report.html``, ``charts/*.png`` and ``eval_config.yaml``.
    ``backend`` (``torch``, ``onnx``, ``onnx-int8``) applies to model references; the results' model name
    carries a ``+onnx`` / ``+onnx-int8`` suffix.
    """
    settings = settings or get_settings()
    config = config or SuiteConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "eval_config.yaml")
    results_path = out / "results.json"
    records = load_results(results_path) if results_path.is_file() else []
    task_objs = [t if isinstance(t, Task) else get_task(t, settings, config) for t in (tasks or available_tasks())]
    for task in task_objs:  # fail early on missing or malformed data, before any model is loaded
        task.ensure_loaded()
    for model in models:
        name = _model_name(model, settings, backend)
        done = {r.task for r in records if r.model == name}
        todo = [t for t in task_objs if force or t.name not in done]
        if not todo:
            logger.info("%s: all %d tasks already in %s (use --force to recompute)", name, len(task_objs),
                        results_path)
            continue
        skipped = [t.name for t in task_objs if t not in todo]
        if skipped:
            logger.info("%s: skipping tasks already in results: %s", name, ", ".join(skipped))
        started = time.perf_counter()
        encoder = CachedEncoder(_as_encoder(model, settings, bf16, backend), out / "cache", shard_size=cache_shard_size)
        texts = list(dict.fromkeys(t for task in todo for t in task.texts()))
        logger.info("%s: encoding %d unique texts for %d tasks (%d cached)", name, len(texts), len(todo),
                    len(encoder))
        encoder.encode(texts, batch_size=batch_size, show_progress=show_progress)
        encode_seconds = time.perf_counter() - started
        logger.info("%s: encoded in %.1f s", name, encode_seconds)
        for task in todo:
            t0 = time.perf_counter()
            new = task.evaluate(encoder, batch_size=batch_size)
            for r in new:
                r.metrics.setdefault("encode_seconds_all_tasks", round(encode_seconds, 2))
            records = merge_results([r for r in records if not (r.model == name and r.task == task.name)], new)
            save_results(results_path, records)
            logger.info("%s / %s: %d records in %.1f s", name, task.name, len(new), time.perf_counter() - t0)
    write_reports(records, out)
    return records
