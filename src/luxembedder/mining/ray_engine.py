"""The Ray engine of the mining pipeline (``luxembedder mine --engine ray``) and its sharded scoring.

The pipeline's stages, fingerprints and files are the same as the local engine's (:func:`mining.mine
<luxembedder.mining.pipeline.mine>` calls the hooks of a :class:`RayExecutor`); only where the work runs
changes:

``prepare``  per input file, a task reads and validates it and a second task prepares its articles
             (clean, filter, language ID, sentences); the driver checks the ids across files in between
             and concatenates the parts in input order (:meth:`RayExecutor.prepare`).
``embed``    the texts the local run would encode, in the same chunks (:meth:`CachedEncoder.plan_chunks
             <luxembedder.models.cache.CachedEncoder.plan_chunks>`), go through Ray Data ``map_batches``
             with an actor pool (one model per actor; one GPU per actor when the cluster has GPUs). Each
             finished chunk is written to the run's on-disk embedding cache as it arrives, so an
             interrupted run resumes, and a killed actor is restarted and its chunk retried (Ray Data's
             defaults for actor pools).
``score``    per date shard of source articles (``execution.shard_days``): one task computes the candidates
             of its article pairs, then (margin, window pool) one task the window kNN means of its
             sentences against the ±N-day context (the ±2N-day padding ``--shard`` uses), with the plan of
             the whole run, so every value comes from the same products as in one process.
``match``, ``select``  in the driver (article matching is small; selection is the merge: global filters).

Pairs files are byte-identical to the local engine's (tested). Workers read the embeddings from the run
directory (memory-mapped), so on a multi-node cluster the run directory must be on a shared filesystem.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.datasets.articles import ArticleLoad, FileLoad, article_file_problem, read_article_file
from luxembedder.errors import ConfigError, DataError
from luxembedder.mining.scoring import Candidates, candidate_pairs, window_knn_means, window_plan
from luxembedder.mining.stages import (
    CorpusPart,
    article_columns,
    combine_parts,
    make_langid,
    prepare_articles,
)
from luxembedder.models.backends import effective_backend, ensure_export
from luxembedder.models.registry import encoder_backend, load_encoder, resolve_model

logger = logging.getLogger(__name__)

FAULT_ENV = "LUXEMBEDDER_FAULT_KILL_EMBED_ACTOR"
"""Fault injection for tests: a marker path; the first embedding actor to see it missing creates it and
exits (as a crash would), once."""


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install 'luxembedder[ray]' (or use --engine local)") from None
    return ray


def init_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to ``address`` (``auto`` or ``HOST:PORT``) or start a local Ray; True when started here."""
    ray = require_ray()
    if address and address != "auto":
        _check_reachable(address)
    if ray.is_initialized():
        return False
    env = {"env_vars": {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "LUXEMBEDDER_HOME",
                                                                   "LUXEMBEDDER_DATA", "HF_HUB_OFFLINE")}}
    if address:
        try:
            ray.init(address=address, runtime_env=env, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Ray cluster at '{address}': {exc}. Start one with "
                              "`ray start --head` (then --ray-address auto), or omit --ray-address to run "
                              "a local Ray on this machine.") from None
        return False
    n = num_cpus or os.cpu_count() or 1
    ray.init(num_cpus=n, include_dashboard=False, runtime_env=env, logging_level=logging.WARNING,
             log_to_driver=False)
    logger.info("started a local Ray with %d CPUs", n)
    return True


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A clear error at once when ``HOST:PORT`` refuses connections (Ray itself retries for a minute)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except ValueError:
        raise ConfigError(f"--ray-address '{address}': expected auto or HOST:PORT") from None
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at '{address}' ({exc.strerror or exc}). Start one with "
                          "`ray start --head` on that machine, or omit --ray-address to run a local Ray.") from None


# ------------------------------------------------------------------------------------- sharded scoring

@dataclass
class Shard:
    """Article pairs ``[p0, p1)`` (their source articles published on days ``[d0, d1]``)."""

    p0: int
    p1: int
    d0: int
    d1: int


def day_shards(pair_days: np.ndarray, shard_days: int) -> list[Shard]:
    """Contiguous runs of article pairs whose source days fall in consecutive ``shard_days`` windows.

    The pipeline's article pairs are in source-article order, which is day order; if they are not, one
    shard holds them all (still correct, just not parallel).
    """
    days = np.asarray(pair_days, dtype=np.int64)
    if len(days) == 0:
        return []
    if np.any(np.diff(days) < 0):
        return [Shard(0, len(days), int(days.min()), int(days.max()))]
    bucket = (days - days[0]) // shard_days
    starts = np.flatnonzero(np.r_[True, np.diff(bucket) > 0])
    ends = np.r_[starts[1:], len(days)]
    return [Shard(int(a), int(b), int(days[a]), int(days[b - 1])) for a, b in zip(starts, ends, strict=True)]


def shard_candidates(se: np.ndarray, so: np.ndarray, te: np.ndarray, to: np.ndarray, a_s: np.ndarray,
                     a_t: np.ndarray, shard: Shard, floor: float | None, k: int, knn: bool) -> Candidates:
    """:func:`candidate_pairs` of the shard's article pairs; ``pair`` numbered as in the whole run."""
    c = candidate_pairs(se, so, te, to, a_s[shard.p0:shard.p1], a_t[shard.p0:shard.p1], floor=floor, k=k,
                        knn=knn, threads=None)
    c.pair = c.pair + shard.p0
    return c


def shard_window_knn(se: np.ndarray, s_days: np.ndarray, te: np.ndarray, t_days: np.ndarray, window: int,
                     k: int, need_s: np.ndarray, need_t: np.ndarray, shard: Shard, plan: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Window kNN means of the shard's wanted sentences: ``(s_rows, knn_s, t_rows, knn_t)``.

    Reads only the context the shard's values depend on (day-sorted sentences: contiguous slices): the
    targets within ±N days of its source days and the sources within ±N days of its wanted targets' days
    (at most the ±2N-day padding ``--shard`` uses), and runs :func:`window_knn_means` there with the whole
    run's ``plan``, so each value comes from exactly the products the whole run computes for it.
    """
    s0, s1, t0, t1 = context_rows(s_days, t_days, window, need_t, shard)
    ks, kt = window_knn_means(se[s0:s1], s_days[s0:s1], te[t0:t1], t_days[t0:t1], window, k,
                              need_s[s0:s1], need_t[t0:t1], plan=plan)  # type: ignore[arg-type]
    rs, rt = np.flatnonzero(need_s[s0:s1]), np.flatnonzero(need_t[t0:t1])
    return rs + s0, ks[rs], rt + t0, kt[rt]


def context_rows(s_days: np.ndarray, t_days: np.ndarray, window: int, need_t: np.ndarray, shard: Shard
                 ) -> tuple[int, int, int, int]:
    """``(s0, s1, t0, t1)``: the source and target sentence rows :func:`shard_window_knn` reads."""
    t_need_days = t_days[need_t]
    t_lo = int(t_need_days.min()) if len(t_need_days) else shard.d0
    t_hi = int(t_need_days.max()) if len(t_need_days) else shard.d1
    s0, s1 = np.searchsorted(s_days, [min(shard.d0, t_lo - window), max(shard.d1, t_hi + window) + 1])
    t0, t1 = np.searchsorted(t_days, [min(shard.d0 - window, t_lo), max(shard.d1 + window, t_hi) + 1])
    return int(s0), int(s1), int(t0), int(t1)


def score_pair_sharded(se: np.ndarray, vs: Any, te: np.ndarray, vt: Any, a_s: np.ndarray, a_t: np.ndarray,
                       cfg: Any, map_fn: Any = None) -> Candidates:
    """The score stage of one language pair, computed shard by shard (``map_fn(fn, list_of_args)``:
    how the per-shard calls run; default: in this process). Equal to the one-process computation."""
    map_fn = map_fn or (lambda fn, args: [fn(*a) for a in args])
    sc, window = cfg.scoring, cfg.matching.window_days
    need_margin = sc.compute_margin or sc.method == "margin"
    article_knn = need_margin and sc.neighbour_pool == "article"
    shards = day_shards(vs.art_days[a_s], cfg.execution.shard_days)
    parts = map_fn(shard_candidates, [(se, vs.offsets, te, vt.offsets, a_s, a_t, sh, sc.candidate_floor,
                                       sc.margin_k, article_knn) for sh in shards])
    parts = [p for p in parts if len(p)]
    if not parts:
        return Candidates.empty()
    c = Candidates(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("pair", "src", "tgt", "cos", "knn_src", "knn_tgt")))
    if not (need_margin and sc.neighbour_pool == "window"):
        return c
    need_s = np.zeros(se.shape[0], dtype=bool)
    need_s[c.src] = True
    need_t = np.zeros(te.shape[0], dtype=bool)
    need_t[c.tgt] = True
    plan = window_plan(vs.sent_days, vt.sent_days, window, need_s, need_t)
    ks = np.full(se.shape[0], np.nan, dtype=np.float32)
    kt = np.full(te.shape[0], np.nan, dtype=np.float32)
    bounds = np.r_[0, np.cumsum([len(p) for p in parts])]
    args = []
    for i, sh in enumerate(shards_with_candidates(shards, parts)):
        ns = np.zeros_like(need_s)
        ns[c.src[bounds[i]:bounds[i + 1]]] = True
        nt = np.zeros_like(need_t)
        nt[c.tgt[bounds[i]:bounds[i + 1]]] = True
        args.append((se, vs.sent_days, te, vt.sent_days, window, sc.margin_k, ns, nt, sh, plan))
    for rs, vs_, rt, vt_ in map_fn(shard_window_knn, args):
        ks[rs], kt[rt] = vs_, vt_
    return Candidates(c.pair, c.src, c.tgt, c.cos, ks[c.src], kt[c.tgt])


def shards_with_candidates(shards: list[Shard], parts: list[Candidates]) -> list[Shard]:
    """The shards whose candidate part is not empty, in order (``parts`` dropped the empty ones)."""
    out, j = [], 0
    for sh in shards:
        if j < len(parts) and len(parts[j]) and sh.p0 <= int(parts[j].pair[0]) < sh.p1:
            out.append(sh)
            j += 1
    return out


# ----------------------------------------------------------------------------------------- embedding

class EmbedActor:
    """One model per actor: encodes a chunk of texts, returns the float32 vectors as ``.npy`` bytes."""

    def __init__(self, model: str, backend: str, batch_size: int, threads: int, fault_marker: str | None,
                 models_home: str | None, device: str | None = None) -> None:
        import torch

        if models_home:
            os.environ["LUXEMBEDDER_HOME"] = models_home
        torch.set_num_threads(threads)
        # the driver decided the backend (and named the cache after it): a worker that would run another one
        # (a torch-bf16 request on a CPU without native bf16) must not write its vectors under that name
        if effective_backend(backend, device=device) != backend:
            raise ConfigError(f"this Ray worker ({os.uname().nodename}) cannot run backend {backend}, which the "
                              "driver chose (no native bf16 here): use machines alike, or --backend torch")
        self.encoder = load_encoder(model, backend=backend, device=device)
        self.batch_size = batch_size
        self.fault_marker = fault_marker

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        if self.fault_marker and not os.path.exists(self.fault_marker):
            Path(self.fault_marker).write_text(str(os.getpid()))
            os._exit(1)  # simulated crash of this actor (tests)
        out = []
        for texts in batch["texts"]:
            vecs = np.asarray(self.encoder.encode([str(t) for t in texts], batch_size=self.batch_size),
                              dtype=np.float32)
            buf = io.BytesIO()
            np.save(buf, vecs)
            out.append(buf.getvalue())
        return {"chunk": np.asarray(batch["chunk"]), "npy": np.array(out, dtype=object)}


def ray_encode_chunks(chunks: list[list[str]], model: str, backend: str, batch_size: int, n_actors: int,
                      actor_threads: int = 1, gpus_per_actor: float = 0.0, models_home: str | None = None):
    """Yield ``(chunk index, vectors)`` as Ray Data's actor pool finishes them (any order).

    ``backend`` is the one the driver decided (:func:`~luxembedder.models.backends.effective_backend`); an actor
    that would run another refuses to start. With ``gpus_per_actor`` each actor encodes on ``cuda``."""
    require_ray()
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ds = ray.data.from_items([{"chunk": i, "texts": list(t)} for i, t in enumerate(chunks)],
                             override_num_blocks=max(1, len(chunks)))
    out = ds.map_batches(
        EmbedActor, batch_size=1, compute=ray.data.ActorPoolStrategy(size=n_actors), num_cpus=actor_threads if not gpus_per_actor else 1,
        num_gpus=gpus_per_actor or None,
        fn_constructor_kwargs={"model": model, "backend": backend, "batch_size": batch_size,
                               "device": "cuda" if gpus_per_actor else None,
                               "threads": actor_threads, "fault_marker": os.environ.get(FAULT_ENV),
                               "models_home": models_home},
        batch_format="numpy")
    for row in out.iter_rows():
        yield int(row["chunk"]), np.load(io.BytesIO(row["npy"]))


def prepare_backend(model: str, backend: str, settings: Any) -> None:
    """Export an ONNX backend once in the driver, so the actors only load it (never export in parallel)."""
    if not backend.startswith("onnx"):
        return
    resolved = resolve_model(model, settings)
    if resolved.kind == "local":
        ensure_export(resolved.location, backend, settings)


# ------------------------------------------------------------------------------------------ executor

class RayExecutor:
    """The hooks :func:`~luxembedder.mining.pipeline.mine` calls when ``execution.engine`` is ``ray``."""

    def __init__(self, execution: Any) -> None:
        self.cfg = execution
        self.started = init_ray(execution.ray_address, execution.num_cpus)
        self.ray = require_ray()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()
            self.started = False

    # -- resources
    def _gpus(self) -> int:
        return int(self.ray.cluster_resources().get("GPU", 0))

    def n_actors(self) -> int:
        if self.cfg.embed_actors:
            return self.cfg.embed_actors
        gpus = self._gpus()
        if gpus:
            return gpus
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        return max(1, cpus // max(2, self.cfg.actor_threads))

    def _map(self, fn: Any, args: list[tuple]) -> list[Any]:
        remote = self.ray.remote(num_cpus=1, max_retries=3)(fn)
        return self.ray.get([remote.remote(*a) for a in args])

    # -- hooks
    def prepare(self, paths: list[Path], cfg: Any, lenient: bool) -> Any:
        """Prepare the input files as Ray tasks; the same :class:`~luxembedder.mining.stages.Corpus` as
        :func:`~luxembedder.mining.stages.prepare_corpus` (the same functions, see :mod:`.stages`).

        Per file, one task reads and validates it, keeping the articles in the object store and sending
        the driver only the ids and the rejected rows; the driver checks the ids across files in input
        order (strict: the first bad row, in file and line order, raises here) and then submits the
        file's second task, which prepares its articles but the duplicates. The parts are combined in
        input order."""
        read = self.ray.remote(num_cpus=1, max_retries=3, num_returns=2)(_read_task)
        prep = self.ray.remote(num_cpus=1, max_retries=3)(_prepare_task)
        cols = article_columns(cfg)
        problems = [article_file_problem(p) for p in paths]
        reads = [read.remote(str(p), cols, not lenient) if problem is None else (None, None)
                 for p, problem in zip(paths, problems, strict=True)]
        load = ArticleLoad()
        preps: list[tuple[Any, list[dict[str, Any]]]] = []
        try:
            for p, problem, (header, full) in zip(paths, problems, reads, strict=True):
                if problem is not None:
                    raise DataError(problem, p)
                n_rejected = len(load.rejected)
                kept = load.add_file(self.ray.get(header), lenient)
                duplicates = [r for r in load.rejected[n_rejected:] if r["row"] is None]
                preps.append((prep.remote(full, kept, cfg), duplicates))
        except BaseException:
            for ref in [r for r, _ in preps] + [f for _, f in reads if f is not None]:
                self.ray.cancel(ref)
            raise
        parts = []
        for ref, duplicates in preps:
            part, duplicate_rows = self.ray.get(ref)
            for rejection, row in zip(duplicates, duplicate_rows, strict=True):
                rejection["row"] = row  # the duplicates' input rows stayed with the worker
            parts.append(part)
        return combine_parts(parts, load, cfg)

    def embed(self, cached: Any, requests: list[list[str]], cfg: Any, settings: Any) -> None:
        chunks = cached.plan_chunks(requests)
        if not chunks:
            return
        prepare_backend(cfg.embedding.model, cfg.embedding.backend, settings)
        n = min(self.n_actors(), len(chunks))
        gpus = 1.0 if self._gpus() else 0.0
        logger.info("embedding %d texts in %d chunks on %d Ray actor(s)%s", sum(map(len, chunks)), len(chunks),
                    n, " (GPU)" if gpus else "")
        backend = encoder_backend(cfg.embedding.model, settings, cfg.embedding.backend)  # the cache's name follows it
        for i, vecs in ray_encode_chunks([[t for _, t in ch] for ch in chunks], cfg.embedding.model,
                                         backend, cfg.embedding.batch_size, n,
                                         self.cfg.actor_threads, gpus, str(settings.models_home)):
            cached.add([k for k, _ in chunks[i]], vecs)

    def can_score(self, cfg: Any) -> bool:
        sc = cfg.scoring
        need_margin = sc.compute_margin or sc.method == "margin"
        return not (need_margin and sc.neighbour_pool == "window" and sc.index != "matmul")

    def score_pair(self, emb_dir: Path, sl: str, tl: str, vs: Any, vt: Any, a_s: np.ndarray, a_t: np.ndarray,
                   cfg: Any) -> Candidates:
        se_path, te_path = str(emb_dir / f"{sl}.sentences.npy"), str(emb_dir / f"{tl}.sentences.npy")

        def map_fn(fn: Any, args: list[tuple]) -> list[Any]:
            # the embeddings travel as file paths (memory-mapped in the worker), the rest by value
            return self._map(_with_embeddings, [(fn, se_path, te_path, _strip(a)) for a in args])

        se = np.load(se_path, mmap_mode="r")
        te = np.load(te_path, mmap_mode="r")
        return score_pair_sharded(se, vs, te, vt, a_s, a_t, cfg, map_fn=map_fn)


def _strip(args: tuple) -> tuple:
    """Arguments with the two embedding matrices replaced by placeholders (positions 0 and 2)."""
    return (None, *args[1:2], None, *args[3:])


def _with_embeddings(fn: Any, se_path: str, te_path: str, args: tuple) -> Any:
    se = np.load(se_path, mmap_mode="r")
    te = np.load(te_path, mmap_mode="r")
    return fn(se, args[1], te, *args[3:])


def _read_task(path: str, columns: Any, strict: bool) -> tuple[FileLoad, FileLoad]:
    """One input file read and validated: ``(header for the driver, the whole load for _prepare_task)``."""
    part = read_article_file(path, columns, stop_at_error=strict)
    return part.header(), part


def _prepare_task(part: FileLoad, kept: list[bool], cfg: Any) -> tuple[CorpusPart, list[dict[str, Any]]]:
    """One file's articles but the duplicates prepared, and the duplicates' input rows (in file order)."""
    arts = [a for a, k in zip(part.articles or [], kept, strict=True) if k]
    dropped = [r for r, k in zip(part.rows or [], kept, strict=True) if not k]
    return prepare_articles(arts, cfg, make_langid(cfg)), dropped
