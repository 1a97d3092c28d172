"""Embed texts or a file of texts with any model reference (:func:`embed`; :func:`embed_file` is the library
side of ``luxembedder embed``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.errors import ConfigError
from luxembedder.mining.ray_engine import init_ray, prepare_backend, ray_encode_chunks, require_ray
from luxembedder.models.backends import backend_suffix
from luxembedder.models.encoder import encode_texts
from luxembedder.models.registry import encoder_backend, load_encoder, model_name, resolve_model
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.io import atomic_write_json, atomic_write_npy, read_texts, sha256_file

logger = logging.getLogger(__name__)


def embed(
    texts: str | Sequence[str],
    model: str | Path | Any = "me5-small",
    batch_size: int = 32,
    bf16: bool = False,
    settings: Settings | None = None,
    show_progress: bool = False,
) -> np.ndarray:
    """Embeddings of ``texts`` (float32, L2-normalised rows, input order; one vector for a single string).

    ``model``: a registry name, a model folder, a hub id (online only) or an encoder already loaded with
    :func:`~luxembedder.models.registry.load_encoder` (reuse it to avoid loading the model per call). The
    model's prompt (e5's ``"query: "``) is applied by the model itself.
    """
    single = isinstance(texts, str)
    items = [texts] if single else list(texts)
    if isinstance(model, str | Path):
        encoder = load_encoder(model, settings, bf16=bf16)
    else:
        encoder = model
    emb = encode_texts(encoder, items, batch_size=batch_size, show_progress=show_progress)
    return emb[0] if single else emb


def embed_file(
    model: str | Path,
    input_path: str | Path,
    output_path: str | Path,
    column: str = "text",
    skip_empty: bool = False,
    batch_size: int = 32,
    bf16: bool = False,
    settings: Settings | None = None,
    stats: dict[str, float] | None = None,
    backend: str = "torch",
    engine: str = "local",
    ray_address: str | None = None,
    shard_rows: int = 65536,
    actors: int | None = None,
) -> Path:
    """Read texts (see :func:`luxembedder.utils.io.read_texts`), encode, write a float32 ``.npy`` atomically.

    ``stats``, when given, receives ``sentences`` and ``seconds`` (encoding only, model loading excluded).
    ``engine="ray"`` writes a folder instead: ``part-NNNNN.npy`` of ``shard_rows`` rows each (input
    order), encoded by a Ray Data actor pool and written as they finish, plus ``manifest.json``; a
    re-run with the same input, model and backend skips the parts already written (resumable).
    """
    import time

    backend = encoder_backend(model, settings, backend, bf16=bf16)
    texts = read_texts(input_path, column=column, skip_empty=skip_empty)
    t0 = time.perf_counter()
    if engine == "ray":
        out = _embed_ray(model, input_path, texts, Path(output_path), batch_size, settings or get_settings(),
                         backend, ray_address, shard_rows, actors)
        if stats is not None:
            stats.update(sentences=len(texts), seconds=time.perf_counter() - t0)
        return out
    if engine != "local":
        raise ConfigError(f"unknown engine '{engine}' (choose local or ray)")
    encoder = load_encoder(model, settings, backend=backend)
    logger.info("Encoding %d texts from %s with %s", len(texts), input_path, encoder.name)
    t0 = time.perf_counter()
    emb = encode_texts(encoder, texts, batch_size=batch_size, show_progress=True)
    if stats is not None:
        stats.update(sentences=len(texts), seconds=time.perf_counter() - t0)
    out = atomic_write_npy(output_path, emb.astype(np.float32))
    logger.info("Wrote %s %s", out, emb.shape)
    return out


def _embed_ray(model: str | Path, input_path: str | Path, texts: list[str], out: Path, batch_size: int,
               settings: Settings, backend: str, address: str | None, shard_rows: int, actors: int | None) -> Path:
    if out.suffix == ".npy":
        raise ConfigError(f"--engine ray writes a folder of parts; give a folder, not {out}")
    resolve_model(model, settings)  # fail here, not in every actor
    prepare_backend(str(model), backend, settings)
    manifest = {"input": str(Path(input_path).resolve()), "input_sha256": sha256_file(input_path),
                "model": model_name(model, settings) + backend_suffix(backend), "rows": len(texts),
                "shard_rows": shard_rows, "parts": (len(texts) + shard_rows - 1) // shard_rows}
    old = out / "manifest.json"
    if old.is_file():
        prev = json.loads(old.read_text(encoding="utf-8"))
        if {k: prev.get(k) for k in manifest} != manifest:
            raise ConfigError(f"{out} holds parts of another input/model/shard size; choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(old, manifest)
    todo = [i for i in range(manifest["parts"]) if not (out / f"part-{i:05d}.npy").is_file()]
    logger.info("%d texts in %d parts, %d to encode", len(texts), manifest["parts"], len(todo))
    if todo:
        started = init_ray(address)
        ray = require_ray()
        try:
            n = actors or max(1, int(ray.cluster_resources().get("GPU", 0)) or
                              int(ray.cluster_resources().get("CPU", 1)) // 2)
            gpus = 1.0 if ray.cluster_resources().get("GPU") else 0.0
            chunks = [texts[i * shard_rows:(i + 1) * shard_rows] for i in todo]
            for j, vecs in ray_encode_chunks(chunks, str(model), backend, batch_size, min(n, len(chunks)),
                                             gpus_per_actor=gpus, models_home=str(settings.models_home)):
                atomic_write_npy(out / f"part-{todo[j]:05d}.npy", np.asarray(vecs, dtype=np.float32))
        finally:
            if started:
                ray.shutdown()
    logger.info("Wrote %s (%d parts)", out, manifest["parts"])
    return out


def load_parts(folder: str | Path) -> np.ndarray:
    """The embeddings of a folder written by ``embed --engine ray``, concatenated in input order."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    parts = [np.load(folder / f"part-{i:05d}.npy") for i in range(manifest["parts"])]
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
