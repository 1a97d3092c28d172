"""Run tasks for several models: each text encoded once per model, results saved after every task.

``results.json`` is rewritten atomically after each model × task, so an interrupted run resumes where it
stopped: model × task pairs already in the file are skipped unless ``force``; embeddings already computed
are read back from ``<out>/cache`` (a :class:`~luxembedder.models.cache.CachedEncoder` per model).
"""

from __future__ import annotations

import inspect
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from luxembedder.evaluation.report import write_reports
from luxembedder.evaluation.results import ResultRecord, load_results, merge_results, save_results
from luxembedder.evaluation.tasks import SuiteConfig, Task, default_tasks, get_task
from luxembedder.models.adapters import CallableEncoder
from luxembedder.models.backends import backend_suffix
from luxembedder.models.cache import CachedEncoder
from luxembedder.models.encoder import Encoder, weights_fingerprint
from luxembedder.models.registry import encoder_backend, load_encoder, model_name, model_provenance
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.provenance import toolkit_commit

logger = logging.getLogger(__name__)


def _as_encoder(model: Any, settings: Settings, bf16: bool, name: str, backend: str = "torch") -> Encoder:
    if isinstance(model, str | Path):
        encoder = load_encoder(str(model), settings, bf16=bf16, backend=backend)
        encoder.name = name
        return encoder
    if isinstance(model, Encoder) and "batch_size" in inspect.signature(model.encode).parameters:
        return model if model.name == name else CallableEncoder(model, name=name)
    if hasattr(model, "encode") or callable(model):
        return CallableEncoder(model, name=name)
    raise TypeError(f"cannot evaluate {model!r}: pass a model reference or an object with encode(texts)")


def in_memory_model_name(model: Any) -> str:
    """A name for a model object: its ``name`` attribute (an Encoder's), else for a torch model (e.g. a
    ``SentenceTransformer``) the folder or hub id in its config plus ``@`` and a fingerprint of its weights,
    so two different fine-tunes never share a name; else the class name, with a warning."""
    name = getattr(model, "name", None)
    if isinstance(name, str) and name:
        return name
    if hasattr(model, "state_dict"):
        source = None
        for module in getattr(model, "_modules", {}).values():
            config = getattr(getattr(module, "auto_model", None), "config", None)
            if config is not None and getattr(config, "_name_or_path", None):
                source = str(config._name_or_path).rstrip("/").rsplit("/", 1)[-1]
                break
        return f"{source or type(model).__name__}@mem-{weights_fingerprint(model)}"
    logger.warning("model %r has no name: its results are stored as %r (pass names=[...] to evaluate)",
                   model, type(model).__name__)
    return type(model).__name__


def _model_name(model: Any, settings: Settings, backend: str = "torch", bf16: bool = False) -> str:
    if isinstance(model, str | Path):
        return model_name(str(model), settings) + backend_suffix(encoder_backend(str(model), settings, backend, bf16=bf16))
    return in_memory_model_name(model)


def _provenance(model: Any, settings: Settings, task: Task, config: SuiteConfig, command: str | None) -> dict[str, Any]:
    info = model_provenance(str(model), settings) if isinstance(model, str | Path) else {
        "path": None, "base_model": None}
    section = getattr(task, "config", None)
    task_config = {"eval": config.eval.model_dump(mode="json")}
    if hasattr(section, "model_dump"):
        task_config[type(section).__name__] = section.model_dump(mode="json")
    return {"model_path": info["path"], "base_model": info["base_model"], "toolkit_commit": toolkit_commit(),
            "command": command, "config": task_config}


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
    names: Sequence[str | None] | None = None,
    command: str | None = None,
) -> list[ResultRecord]:
    """Evaluate every model on every task; returns all records in ``results.json`` (old and new).

    ``models`` are references (registry names, folders, hub ids when online) or objects with
    ``encode(texts)``; ``tasks`` are names/specs (default: all built-in) or :class:`Task` objects.
    Embeddings are cached in ``<out>/cache`` in shards of ``cache_shard_size`` texts (the resume unit).
    ``names`` gives models explicit result names (one per model, None: derived: ``folder@weights-hash`` for
    folders, see :func:`in_memory_model_name` for objects). Records carry the model path, base model, toolkit
    commit, ``command`` (default: this process's command line) and the task's configuration.
    Writes ``results.json``, ``report.md``, ``report.html``, ``charts/*.png`` and ``eval_config.yaml``.
    ``backend`` (``torch``, ``torch-bf16``, ``onnx``, ``onnx-int8``; ``bf16=True`` means ``torch-bf16``) applies
    to model references; the results' model name carries the suffix of the backend that ran (``+bf16``,
    ``+onnx``, ``+onnx-int8``).
    """
    settings = settings or get_settings()
    config = config or SuiteConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "eval_config.yaml")
    results_path = out / "results.json"
    records = load_results(results_path) if results_path.is_file() else []
    task_objs = [t if isinstance(t, Task) else get_task(t, settings, config) for t in (tasks or default_tasks())]
    for task in task_objs:  # fail early on missing or malformed data, before any model is loaded
        task.ensure_loaded()
    if names is not None and len(names) != len(models):
        raise ValueError(f"names: {len(names)} names for {len(models)} models")
    command = command if command is not None else shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
    for k, model in enumerate(models):
        name = (names[k] if names is not None else None) or _model_name(model, settings, backend, bf16)
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
        encoder = CachedEncoder(_as_encoder(model, settings, bf16, name, backend), out / "cache",
                                shard_size=cache_shard_size)
        texts = list(dict.fromkeys(t for task in todo for t in task.texts()))
        logger.info("%s: encoding %d unique texts for %d tasks (%d cached)", name, len(texts), len(todo),
                    len(encoder))
        encoder.encode(texts, batch_size=batch_size, show_progress=show_progress)
        encode_seconds = time.perf_counter() - started
        logger.info("%s: encoded in %.1f s", name, encode_seconds)
        for task in todo:
            t0 = time.perf_counter()
            prov = _provenance(model, settings, task, config, command)
            new = [r.model_copy(update=prov) for r in task.evaluate(encoder, batch_size=batch_size)]
            for r in new:
                r.metrics.setdefault("encode_seconds_all_tasks", round(encode_seconds, 2))
            records = merge_results([r for r in records if not (r.model == name and r.task == task.name)], new)
            save_results(results_path, records)
            logger.info("%s / %s: %d records in %.1f s", name, task.name, len(new), time.perf_counter() - t0)
    write_reports(records, out)
    return records
