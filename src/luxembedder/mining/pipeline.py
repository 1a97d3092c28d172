"""The LuxAlign mining pipeline: articles → scored, filtered parallel sentence pairs in a run directory.

Stages (each a function; each writes ``<run>/stages/<name>/`` atomically with a fingerprint of the config
sections and inputs it depends on, so a finished stage is skipped on re-run and a changed threshold
re-runs only the stages after it):

``prepare``  load (strict or lenient) → clean → date ranges / shard → article language ID → sentences
             (split, filters, sentence language ID)                               [input, clean, langid, sentences, shard]
``embed``    sentence and article embeddings, cached under ``<run>/cache`` in shards (resumable)   [embedding]
``match``    article matching per language pair                                                   [matching]
``score``    candidates (all sentence pairs of matched article pairs) with cosine and margin      [scoring: k, pool, index]
``select``   accept decision (cosine or margin) → filters → outputs                   [scoring thresholds, filters]

Each stage is a module-level function of its inputs (:func:`prepare_stage`, :func:`embed_stage`,
:func:`match_stage`, :func:`score_stage`, :func:`select_stage`: ``stage(tmp, ...) -> info``); :func:`mine` chains
them through :func:`~luxembedder.mining.store.run_stage` and reads each finished stage back
(:func:`read_prepared`, :func:`read_embeddings`) as the next stages' inputs.

Run directory::

    config.yaml                resolved config
    pairs/lb-en.jsonl|.parquet LuxAlign rows: text_1 (lb), text_2, cos_sim, margin, article_id_1,
                               article_id_2, sentence_id_1, sentence_id_2
    pairs/lb-lb.jsonl          monolingual paraphrase pairs (when filters.paraphrases)
    candidates.parquet         every scored candidate with ``accepted`` and ``reason``
    report.json, report.md     counts in and out of every stage and filter, provenance
    histograms/<pair>.png      cosine and margin histograms (all candidates vs accepted)
    rejected.jsonl             the rejected input rows of the latest run (empty when none; lenient runs)
    stages/…, cache/…          intermediate results

Spreading a large archive over machines: run one shard per date range
(``mine(..., config.shard = {start, end})`` / ``luxembedder mine --shard 2020-01-01:2020-06-30``) on each
machine, copy the run directories to one place and call :func:`~luxembedder.mining.merge.merge_runs`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from luxembedder.errors import ConfigError, DataError
from luxembedder.mining import stages
from luxembedder.mining.card import write_dataset_card
from luxembedder.mining.config import MiningConfig
from luxembedder.mining.matching import match_articles
from luxembedder.mining.ray_engine import RayExecutor
from luxembedder.mining.scoring import candidate_pairs, window_knn_for_candidates
from luxembedder.mining.select import resolve_leakage_files, select_pairs
from luxembedder.mining.store import PAIR_COLUMNS as PAIR_COLUMNS  # re-exported (the pair file columns)
from luxembedder.mining.store import (
    fingerprint,
    read_parquet,
    run_stage,
    write_embeddings,
    write_parquet,
)
from luxembedder.models.backends import backend_suffix
from luxembedder.models.cache import CachedEncoder
from luxembedder.models.encoder import l2_normalize
from luxembedder.models.registry import encoder_backend, load_encoder, load_sentence_transformer, model_name
from luxembedder.settings import Settings, get_settings
from luxembedder.utils.io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    remove_stale_partials,
    sha256_file,
    write_jsonl,
)
from luxembedder.utils.provenance import data_record, now_iso, versions

logger = logging.getLogger(__name__)

@dataclass
class MiningResult:
    """What a run produced: the run directory, pair files per language pair, the report, stage activity."""

    out_dir: Path
    pair_files: dict[str, Path]
    report: dict[str, Any]
    stages_run: list[str] = field(default_factory=list)
    stages_skipped: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------- helpers


def _inputs_record(paths: list[Path]) -> list[dict[str, Any]]:
    return [data_record(p) for p in paths]


# ------------------------------------------------------------------------------------------ embedding

class PoolEncoder:
    """Encoder over sentence-transformers' multi-process pool (several CPU processes or GPUs)."""

    def __init__(self, model: Any, name: str, devices: list[str] | None = None) -> None:
        self.model = model
        self.name = name
        self.pool = model.start_multi_process_pool(devices or ["cpu", "cpu"])

    def encode(self, texts, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        emb = self.model.encode(list(texts), pool=self.pool, batch_size=batch_size, normalize_embeddings=True,
                                show_progress_bar=show_progress, convert_to_numpy=True)
        return np.asarray(emb, dtype=np.float32)

    def close(self) -> None:
        self.model.stop_multi_process_pool(self.pool)


def load_mining_encoder(cfg: MiningConfig, settings: Settings):
    """The configured encoder (registry ref or folder), optionally over a multi-process pool."""
    backend = encoder_backend(cfg.embedding.model, settings, cfg.embedding.backend)
    if cfg.embedding.multi_process and backend == "torch":
        return PoolEncoder(load_sentence_transformer(cfg.embedding.model, settings),
                           model_name(cfg.embedding.model, settings), cfg.embedding.devices)
    if cfg.embedding.multi_process:
        logger.warning("embedding.multi_process is for backend torch; backend %s encodes in this process "
                       "(for several processes use --engine ray)", backend)
    return load_encoder(cfg.embedding.model, settings, backend=backend)


def article_texts(arts: dict[str, np.ndarray], rows: np.ndarray, max_chars: int) -> list[str]:
    """``title + lead + body`` of the given article rows, truncated to ``max_chars``."""
    return ["\n".join(p for p in (arts["title"][i], arts["lead"][i], arts["body"][i]) if p)[:max_chars]
            for i in rows]


def mean_rows(emb: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Re-normalised mean of each group ``emb[offsets[a]:offsets[a+1]]`` (zero row for an empty group)."""
    from scipy.sparse import csr_matrix

    n = len(offsets) - 1
    n_rows = int(offsets[-1])
    groups = csr_matrix((np.ones(n_rows, dtype=np.float32), np.arange(n_rows), np.asarray(offsets)),
                        shape=(n, emb.shape[0]))
    out = np.asarray(groups @ emb, dtype=np.float32)  # sparse group-sum: one pass over the rows
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


# --------------------------------------------------------------------------------------------- layout

@dataclass
class LangView:
    """One language's articles and sentences as arrays, sentences grouped by article (``offsets``)."""

    art_rows: np.ndarray  # rows of the articles table
    art_ids: np.ndarray
    art_days: np.ndarray
    is_source: np.ndarray
    sent_rows: np.ndarray  # rows of the sentences table
    offsets: np.ndarray
    sent_days: np.ndarray


def lang_view(arts: dict[str, np.ndarray], sents: dict[str, np.ndarray], lang: str) -> LangView:
    art_rows = np.flatnonzero(arts["lang"] == lang)
    art_rows = art_rows[np.argsort(arts["day"][art_rows], kind="stable")]  # day order: window pools are slices
    sent_rows = np.flatnonzero(sents["lang"] == lang)
    ids = arts["id"][art_rows].astype(str)
    pos = {a: i for i, a in enumerate(ids)}
    art_of_sent = np.fromiter((pos[a] for a in sents["article_id"][sent_rows].astype(str)), dtype=np.int64,
                              count=len(sent_rows))
    if len(art_of_sent) and np.any(np.diff(art_of_sent) < 0):
        order = np.argsort(art_of_sent, kind="stable")
        sent_rows, art_of_sent = sent_rows[order], art_of_sent[order]
    counts = np.bincount(art_of_sent, minlength=len(art_rows))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    days = arts["day"][art_rows].astype(np.int64)
    return LangView(art_rows, ids, days, arts["is_source"][art_rows].astype(bool), sent_rows, offsets,
                    days[art_of_sent] if len(art_of_sent) else np.zeros(0, dtype=np.int64))


# --------------------------------------------------------------------------------------------- stages
# Each stage is a function of its inputs: ``stage(tmp, ...) -> info`` writes its files into ``tmp`` (the
# stage folder being built; :func:`~luxembedder.mining.store.run_stage` renames it into place with the
# fingerprint) and returns the info recorded in ``_stage.json``. ``read_prepared`` / ``read_embeddings``
# read a finished stage's files back as the next stages' inputs.

@dataclass
class Prepared:
    """The prepare stage's outputs: the article and sentence tables (columns) and a view per language."""

    articles: dict[str, np.ndarray]
    sentences: dict[str, np.ndarray]
    views: dict[str, LangView]


@dataclass
class Embeddings:
    """The embed stage's outputs per language: sentence vectors (memory-mapped) and article vectors."""

    sentences: dict[str, np.ndarray]
    articles: dict[str, np.ndarray]


def prepare_stage(tmp: Path, cfg: MiningConfig, paths: list[Path], lenient: bool = False,
                  executor: Any = None) -> dict[str, Any]:
    """Load, clean, identify languages and split sentences (:func:`~luxembedder.mining.stages.prepare_corpus`,
    or an ``executor``'s ``prepare``) into ``tmp/articles.parquet``, ``sentences.parquet`` and
    ``rejected.jsonl``."""
    corpus = executor.prepare(paths, cfg, lenient) if executor is not None else \
        stages.prepare_corpus(paths, cfg, lenient=lenient)
    write_parquet(tmp / "articles.parquet", corpus.articles)
    write_parquet(tmp / "sentences.parquet", corpus.sentences)
    write_jsonl(tmp / "rejected.jsonl", corpus.rejected)
    return {"counts": corpus.counts, "summary": f"{len(corpus.articles['id'])} articles, "
                                                f"{len(corpus.sentences['text'])} sentences"}


def read_prepared(prep_dir: Path, cfg: MiningConfig) -> Prepared:
    """A finished prepare stage's tables, with the view of each of the config's languages."""
    arts = read_parquet(prep_dir / "articles.parquet")
    sents = read_parquet(prep_dir / "sentences.parquet")
    return Prepared(arts, sents, {lang: lang_view(arts, sents, lang) for lang in cfg.languages()})


def embed_stage(tmp: Path, cfg: MiningConfig, prepared: Prepared, model: str, cache_dir: Path,
                encoder: Any = None, settings: Settings | None = None, executor: Any = None,
                show_progress: bool = False) -> dict[str, Any]:
    """Sentence and article embeddings per language into ``tmp/<lang>.sentences.npy`` / ``.articles.npy``,
    through the embedding cache in ``cache_dir``. ``model`` is the encoder's name (recorded); ``encoder``
    replaces the configured model, which is otherwise loaded here (on a cache miss only when an ``executor``
    fills the cache first)."""
    if encoder is not None:
        enc = encoder
    elif executor is not None:  # the executor fills the cache; the model is loaded here only on a miss
        enc = _LazyEncoder(lambda: load_mining_encoder(cfg, settings or get_settings()), model)
    else:
        enc = load_mining_encoder(cfg, settings or get_settings())
    arts, sents, views = prepared.articles, prepared.sentences, prepared.views
    cached = CachedEncoder(enc, cache_dir, shard_size=cfg.embedding.shard_size)
    mean_articles = cfg.embedding.article_representation == "mean_sentences"
    requests: dict[str, tuple[list[str], list[str] | None]] = {}
    for lang, v in views.items():
        requests[lang] = (sents["text"][v.sent_rows].astype(str).tolist(), None if mean_articles else
                          article_texts(arts, v.art_rows, cfg.embedding.article_max_chars))
    if executor is not None and encoder is None:
        executor.embed(cached, [t for pair in requests.values() for t in pair if t], cfg, settings)
    try:
        shapes = {}
        for lang, v in views.items():
            texts, a_texts = requests[lang]
            logger.info("embedding %d %s sentences", len(texts), lang)
            s_emb = _encode(cached, texts, cfg, show_progress)
            if a_texts is None:
                a_emb = mean_rows(s_emb, v.offsets)
            else:
                a_emb = _encode(cached, a_texts, cfg, show_progress)
            write_embeddings(tmp / f"{lang}.sentences.npy", s_emb)
            write_embeddings(tmp / f"{lang}.articles.npy", a_emb)
            shapes[lang] = {"sentences": list(s_emb.shape), "articles": list(a_emb.shape)}
    finally:
        if hasattr(enc, "close"):
            enc.close()
    return {"model": model, "shapes": shapes, "cache_hits": cached.hits, "cache_misses": cached.misses,
            "summary": ", ".join(f"{k}: {v['sentences'][0]} sentences" for k, v in shapes.items())}


def read_embeddings(emb_dir: Path, langs: Iterable[str]) -> Embeddings:
    """A finished embed stage's vectors (sentence vectors memory-mapped: they can be large)."""
    langs = list(langs)
    return Embeddings({lang: np.load(emb_dir / f"{lang}.sentences.npy", mmap_mode="r") for lang in langs},
                      {lang: np.load(emb_dir / f"{lang}.articles.npy") for lang in langs})


def match_stage(tmp: Path, cfg: MiningConfig, views: dict[str, LangView], a_emb: dict[str, np.ndarray]
                ) -> dict[str, Any]:
    """Article matching per language pair into ``tmp/<pair>.parquet`` (a function of its inputs only)."""
    counts = {}
    for pair in cfg.pairs:
        sl, tl = pair.split("-")
        vs, vt = views[sl], views[tl]
        src_idx = np.flatnonzero(vs.is_source)
        m = match_articles(a_emb[sl][src_idx], vs.art_days[src_idx], a_emb[tl], vt.art_days,
                           cfg.matching.window_days, cfg.matching.article_threshold,
                           cfg.matching.mutual_best, cfg.matching.one_to_one)
        src = src_idx[m.src]
        write_parquet(tmp / f"{pair}.parquet", {
            "src": src, "tgt": m.tgt, "cos": m.cos,
            "article_id_1": vs.art_ids[src].tolist(), "article_id_2": vt.art_ids[m.tgt].tolist()})
        counts[pair] = m.counts
    return {"counts": counts, "summary": ", ".join(f"{p}: {c['matches']} matches" for p, c in counts.items())}


def score_stage(tmp: Path, cfg: MiningConfig, views: dict[str, LangView], s_emb: dict[str, np.ndarray],
                match_dir: Path, executor: Any = None, emb_dir: Path | None = None) -> dict[str, Any]:
    """Candidate sentence pairs (and their margin neighbours) of the matched articles into
    ``tmp/<pair>.parquet`` (a function of its inputs only). An ``executor`` (the Ray engine) scores each
    pair by date shards from the embeddings in ``emb_dir``; the candidates are the same."""
    sc = cfg.scoring
    need_margin = sc.compute_margin or sc.method == "margin"
    counts = {}
    for pair in cfg.pairs:
        sl, tl = pair.split("-")
        vs, vt = views[sl], views[tl]
        m = read_parquet(match_dir / f"{pair}.parquet")
        if executor is not None and executor.can_score(cfg):
            c = executor.score_pair(emb_dir, sl, tl, vs, vt, m["src"].astype(np.int64), m["tgt"].astype(np.int64),
                                    cfg)
            write_parquet(tmp / f"{pair}.parquet", {"pair": c.pair, "src": c.src, "tgt": c.tgt, "cos": c.cos,
                                                    "knn_src": c.knn_src, "knn_tgt": c.knn_tgt})
            counts[pair] = {"article_pairs": len(m["src"]), "candidates": len(c)}
            continue
        se = np.asarray(s_emb[sl], dtype=np.float32)
        te = np.asarray(s_emb[tl], dtype=np.float32)
        c = candidate_pairs(se, vs.offsets, te, vt.offsets, m["src"].astype(np.int64),
                            m["tgt"].astype(np.int64), floor=sc.candidate_floor, k=sc.margin_k,
                            knn=need_margin and sc.neighbour_pool == "article", threads=sc.threads)
        if need_margin and sc.neighbour_pool == "window":
            c = window_knn_for_candidates(c, se, vs.sent_days, te, vt.sent_days, cfg.matching.window_days,
                                          sc.margin_k, sc.index, sc.ivf_nlist, sc.ivf_nprobe, threads=sc.threads)
        write_parquet(tmp / f"{pair}.parquet", {"pair": c.pair, "src": c.src, "tgt": c.tgt, "cos": c.cos,
                                                "knn_src": c.knn_src, "knn_tgt": c.knn_tgt})
        counts[pair] = {"article_pairs": len(m["src"]), "candidates": len(c)}
    return {"counts": counts, "summary": ", ".join(f"{p}: {c['candidates']} candidates" for p, c in counts.items())}


def select_stage(tmp: Path, run_dir: Path, cfg: MiningConfig, prepared: Prepared, emb: Embeddings,
                 match_dir: Path, score_dir: Path, leak_files: list[Path]) -> dict[str, Any]:
    """Accept decisions, filters and the run's outputs (``pairs/``, ``candidates.parquet``, histograms in
    ``run_dir``): :func:`~luxembedder.mining.select.select_pairs`."""
    return select_pairs(run_dir, tmp, cfg, prepared.articles, prepared.sentences, prepared.views, emb.sentences,
                        match_dir, score_dir, leak_files)


# -------------------------------------------------------------------------------------------- pipeline


def mine(
    articles_paths: list[str | Path],
    out_dir: str | Path,
    config: MiningConfig | None = None,
    settings: Settings | None = None,
    lenient: bool = False,
    encoder: Any = None,
    show_progress: bool = True,
    executor: Any = None,
) -> MiningResult:
    """Run (or resume) the pipeline; see the module docstring. ``encoder`` overrides the configured model.

    ``config.execution.engine == "ray"`` (or an ``executor``, see :mod:`luxembedder.mining.ray_engine`) runs
    prepare, embedding and scoring as Ray tasks; the stages, their files and the pairs are the same.
    """
    cfg = config or MiningConfig()
    if executor is None and cfg.execution.engine == "ray":
        for p in articles_paths:  # input errors first, before a cluster is started or reached
            if not Path(p).is_file():
                raise DataError("file not found", p)

        with RayExecutor(cfg.execution) as ray_executor:
            return mine(articles_paths, out_dir, cfg, settings, lenient, encoder, show_progress, ray_executor)
    return _mine(articles_paths, out_dir, cfg, settings, lenient, encoder, show_progress, executor)


def _mine(articles_paths: list[str | Path], out_dir: str | Path, cfg: MiningConfig, settings: Settings | None,
          lenient: bool, encoder: Any, show_progress: bool, executor: Any) -> MiningResult:
    settings = settings or get_settings()
    paths = [Path(p) for p in articles_paths]
    if not paths:
        raise ConfigError("no article files given")
    for p in paths:
        if not p.is_file():
            raise DataError("file not found", p)
    run_dir = Path(out_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--out {run_dir} is a file, not a folder: choose another path")
    # fail fast: the model reference is resolved (and its weights checked) before any stage work
    enc_name = encoder.name if encoder is not None else _model_name(cfg, settings)
    run_dir.mkdir(parents=True, exist_ok=True)
    for d in (run_dir, run_dir / "stages", run_dir / "pairs", run_dir / "histograms",
              Path(cfg.embedding.cache_dir or run_dir / "cache")):
        remove_stale_partials(d)  # left by a run killed with kill -9 or a power loss
    config_file = run_dir / "config.yaml"
    config_changed = not config_file.is_file() or config_file.read_text(encoding="utf-8") != cfg.to_yaml()
    cfg.save(config_file)  # unchanged config: nothing written (read-only media)
    activity: dict[str, list[str]] = {"run": [], "skipped": []}
    inputs = _inputs_record(paths)

    # ---- prepare -------------------------------------------------------------------------------
    fp_prepare = fingerprint("prepare", [(r["path"], r["sha256"]) for r in inputs], lenient,
                       cfg.section_hash("input", "clean", "langid", "sentences", "shard", "pairs"),
                       cfg.matching.window_days if (cfg.shard.start or cfg.shard.end) else None)

    prep_dir, prep_info = run_stage(run_dir, "prepare", fp_prepare,
                                    lambda tmp: prepare_stage(tmp, cfg, paths, lenient, executor), activity)
    # every run leaves the rejected rows of its own input (empty for a clean or strict run)
    atomic_write_bytes(run_dir / "rejected.jsonl", (prep_dir / "rejected.jsonl").read_bytes(), skip_if_same=True)
    prepared = read_prepared(prep_dir, cfg)

    # ---- embed ---------------------------------------------------------------------------------
    fp_embed = fingerprint("embed", fp_prepare, enc_name, cfg.section_hash("embedding"))
    cache_dir = Path(cfg.embedding.cache_dir or run_dir / "cache")
    emb_dir, emb_info = run_stage(run_dir, "embed", fp_embed,
                                  lambda tmp: embed_stage(tmp, cfg, prepared, enc_name, cache_dir, encoder, settings,
                                                          executor, show_progress), activity)
    emb = read_embeddings(emb_dir, prepared.views)

    # ---- match ---------------------------------------------------------------------------------
    fp_match = fingerprint("match", fp_embed, cfg.section_hash("matching"))

    match_dir, match_info = run_stage(run_dir, "match", fp_match,
                                      lambda tmp: match_stage(tmp, cfg, prepared.views, emb.articles), activity)

    # ---- score ---------------------------------------------------------------------------------
    sc = cfg.scoring
    need_margin = sc.compute_margin or sc.method == "margin"
    fp_score = fingerprint("score", fp_match, need_margin, sc.margin_k, sc.neighbour_pool, sc.index, sc.ivf_nlist,
                     sc.ivf_nprobe, sc.candidate_floor, cfg.matching.window_days)

    score_dir, score_info = run_stage(run_dir, "score", fp_score,
                                      lambda tmp: score_stage(tmp, cfg, prepared.views, emb.sentences, match_dir,
                                                              executor, emb_dir), activity)

    # ---- select (decisions, filters, outputs) ---------------------------------------------------
    leak_files = resolve_leakage_files(cfg, settings)
    fp_select = fingerprint("select", fp_score, cfg.section_hash("scoring", "filters", "matching"),
                      [(str(p), _file_sig(p)) for p in leak_files])
    outputs_ok = all((run_dir / "pairs" / f"{p}.jsonl").is_file() for p in cfg.pairs) and \
        (run_dir / "report.json").is_file()

    if not outputs_ok:
        (run_dir / "stages" / "select" / "_stage.json").unlink(missing_ok=True)
    _, sel_info = run_stage(run_dir, "select", fp_select,
                            lambda tmp: select_stage(tmp, run_dir, cfg, prepared, emb, match_dir, score_dir,
                                                     leak_files), activity)

    report_stage_info = {"prepare": prep_info, "embed": emb_info, "match": match_info, "score": score_info,
                         "select": sel_info}
    if not activity["run"] and not config_changed and (run_dir / "report.json").is_file():
        report = _load_report(run_dir, activity)  # a no-op rerun writes nothing
    else:
        report = build_report(run_dir, cfg, inputs, report_stage_info, lenient, activity, leak_files)
    if activity["run"] or config_changed or not (run_dir / "pairs" / "README.md").is_file():
        write_dataset_card(run_dir, report, cfg)
    pair_files = {p: run_dir / "pairs" / f"{p}.jsonl" for p in cfg.pairs}
    return MiningResult(run_dir, pair_files, report, activity["run"], activity["skipped"])


def _load_report(run_dir: Path, activity: dict[str, list[str]]) -> dict[str, Any]:
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    report["stages_run"], report["stages_skipped"] = activity["run"], activity["skipped"]
    return report


def empty_causes(report: dict[str, Any]) -> dict[str, str]:
    """For each language pair that yielded no pair: the first step where everything was lost, in words."""
    causes: dict[str, str] = {}
    inp = report["input"]
    rows = sum(inp.get("rows_read", {}).values())
    window = report["config"]["matching"]["window_days"]
    for pair in report["pairs"]:
        sel = report["selection"].get(pair, {})
        if sel.get("final"):
            continue
        sl, tl = pair.split("-")
        arts = report["articles"]
        m = report["article_matching"].get(pair, {})
        if rows == 0:
            cause = "the input files hold no records"
        elif inp["loaded"] == 0:
            cause = f"every input row was rejected ({inp['rejected']} rows; see rejected.jsonl)"
        elif not arts.get(sl, {}).get("kept") or not arts.get(tl, {}).get("kept"):
            lang = sl if not arts.get(sl, {}).get("kept") else tl
            a = arts.get(lang, {})
            why = f" ({a['in']} read, dropped: {a['dropped']})" if a.get("in") else ""
            cause = f"no '{lang}' articles{why}"
        elif not arts[sl].get("sources"):
            cause = f"no '{sl}' source articles in the shard's date range"
        elif not m.get("with_candidates"):
            cause = (f"no date overlap: no '{tl}' article within ±{window} days of a '{sl}' article "
                     f"({sl}: {' – '.join(arts[sl].get('date_range') or [])}, "
                     f"{tl}: {' – '.join(arts[tl].get('date_range') or [])})")
        elif not m.get("matches"):
            cause = (f"no article pair above the article threshold "
                     f"{report['config']['matching']['article_threshold']} ({m.get('with_candidates')} "
                     f"'{sl}' articles had a '{tl}' article in the window)")
        elif not report["candidates"].get(pair, {}).get("candidates"):
            cause = f"no candidate sentence pairs in the {m.get('matches')} matched article pairs"
        elif not sel.get("accepted"):
            cause = (f"no sentence pair above the {report['scoring']} threshold "
                     f"({report['candidates'][pair]['candidates']} candidates)")
        else:
            cause = f"the filters removed all {sel.get('accepted')} accepted pairs (see report.md)"
        causes[pair] = cause
    return causes


def _file_sig(p: Path) -> str:
    return sha256_file(p) if p.is_file() else "missing"


class _LazyEncoder:
    """An encoder loaded on first use (the Ray engine fills the cache; the driver rarely needs the model)."""

    def __init__(self, load: Callable[[], Any], name: str) -> None:
        self._load, self._enc, self.name = load, None, name

    def encode(self, texts, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if self._enc is None:
            logger.info("loading %s in the driver for %d texts not in the cache", self.name, len(texts))
            self._enc = self._load()
        return self._enc.encode(texts, batch_size=batch_size, show_progress=show_progress)

    def close(self) -> None:
        if self._enc is not None and hasattr(self._enc, "close"):
            self._enc.close()


def _model_name(cfg: MiningConfig, settings: Settings) -> str:
    return model_name(cfg.embedding.model, settings) + backend_suffix(encoder_backend(cfg.embedding.model, settings,
                                                                                      cfg.embedding.backend))


def _encode(cached: Any, texts: list[str], cfg: MiningConfig, show_progress: bool) -> np.ndarray:
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)

    return l2_normalize(cached.encode(texts, batch_size=cfg.embedding.batch_size, show_progress=show_progress))


def build_report(run_dir: Path, cfg: MiningConfig, inputs: list[dict[str, Any]], info: dict[str, Any],
                 lenient: bool, activity: dict[str, list[str]], leak_files: list[Path]) -> dict[str, Any]:
    """Assemble ``report.json`` and ``report.md`` from the stages' recorded counts."""
    sel = info["select"]
    report = {
        "pipeline": "luxalign",
        "created": now_iso(),
        "model": info["embed"].get("model"),
        "scoring": cfg.scoring.method,
        "pairs": cfg.pairs,
        "inputs": inputs,
        "lenient": lenient,
        "rejected_rows": info["prepare"]["counts"]["input"]["rejected"],
        "articles": info["prepare"]["counts"]["articles"],
        "input": info["prepare"]["counts"]["input"],
        "sentences": info["prepare"]["counts"]["sentences"],
        "article_matching": info["match"]["counts"],
        "candidates": info["score"]["counts"],
        "selection": sel.get("pairs", {}),
        "paraphrases": sel.get("paraphrases"),
        "leakage_files": [str(p) for p in leak_files],
        "final_pairs": {p: v["final"] for p, v in sel.get("pairs", {}).items()},
        "stage_seconds": {k: v.get("seconds") for k, v in info.items()},
        "stages_run": activity["run"],
        "stages_skipped": activity["skipped"],
        "config": cfg.model_dump(mode="json"),
        "versions": versions(),
    }
    report["empty"] = empty_causes(report)
    atomic_write_json(run_dir / "report.json", report)
    atomic_write_text(run_dir / "report.md", report_markdown(report))
    return report


def summary_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per language pair: the counts through the pipeline (for the CLI table and report.md)."""
    rows = []
    for pair in report["pairs"]:
        sl, tl = pair.split("-")
        m = report["article_matching"].get(pair, {})
        sel = report["selection"].get(pair, {})
        row = {"pair": pair, f"articles {sl}": report["articles"].get(sl, {}).get("kept"),
               "articles other": report["articles"].get(tl, {}).get("kept"),
               "article matches": m.get("matches"),
               "candidates": report["candidates"].get(pair, {}).get("candidates"),
               "accepted": sel.get("accepted"), "final pairs": sel.get("final")}
        rows.append(row)
    return rows


def report_markdown(report: dict[str, Any]) -> str:
    """Human-readable report: every stage's counts in and out, every filter's drops."""
    lines = [f"# Mining report ({report['scoring']} scoring, model {report['model']})", "",
             f"Created {report['created']}; stages run: {', '.join(report['stages_run']) or 'none'}; "
             f"skipped: {', '.join(report['stages_skipped']) or 'none'}.", "", "## Input", ""]
    inp = report["input"]
    lines.append(f"Rows read: {sum(inp['rows_read'].values())}; loaded: {inp['loaded']}; "
                 f"rejected: {inp['rejected']} {inp.get('rejection_reasons') or ''}")
    lines += ["", "| language | in | kept | lb sources | dates | dropped |", "|---|---|---|---|---|---|"]
    for lang, a in report["articles"].items():
        dr = a.get("date_range") or ["", ""]
        lines.append(f"| {lang} | {a['in']} | {a['kept']} | {a['sources']} | {dr[0]} – {dr[1]} | "
                     f"{', '.join(f'{k}: {v}' for k, v in a['dropped'].items()) or '-'} |")
    lines += ["", "## Sentences", "", "| language | split | kept | dropped |", "|---|---|---|---|"]
    for lang, s in report["sentences"].items():
        lines.append(f"| {lang} | {s['split']} | {s['kept']} | "
                     f"{', '.join(f'{k}: {v}' for k, v in s['dropped'].items()) or '-'} |")
    lines += ["", "## Pairs", ""]
    rows = summary_rows(report)
    if rows:
        cols = list(rows[0])
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    for pair, sel in report["selection"].items():
        lines += ["", f"### {pair}", "", f"Article matching: {report['article_matching'].get(pair)}", "",
                  "| step | in | dropped | out |", "|---|---|---|---|"]
        for step in sel["steps"]:
            lines.append(f"| {step['filter']} | {step['in']} | {step['dropped']} | {step['out']} |")
    if report.get("paraphrases"):
        lines += ["", "### lb paraphrases", "", "| step | in | dropped | out |", "|---|---|---|---|"]
        for step in report["paraphrases"]["steps"]:
            lines.append(f"| {step['filter']} | {step['in']} | {step['dropped']} | {step['out']} |")
    lines += ["", f"Leakage lists: {', '.join(report['leakage_files']) or 'none'}", ""]
    return "\n".join(lines)
