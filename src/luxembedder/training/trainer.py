"""Contrastive fine-tuning on translation pairs, built on sentence-transformers' ``SentenceTransformerTrainer``.

One dataset per language pair (a batch holds one pair, via the multi-dataset batch sampler), the
no-duplicates batch sampler, in-batch-negatives losses (gathered across DDP processes), a bitext dev
evaluator on held-out pairs, checkpoints with resume, early stopping, and an atomically written output
folder loadable by ``SentenceTransformer(DIR)`` and by every ``luxembedder`` command.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luxembedder.errors import ConfigError, DataError
from luxembedder.models.registry import load_sentence_transformer, model_name, resolve_model
from luxembedder.settings import Settings, get_settings
from luxembedder.training.card import model_card
from luxembedder.training.config import PairSource, TrainConfig
from luxembedder.training.data import (
    PairSet,
    default_exclusion_files,
    drop_leakage,
    evaluation_exclusions,
    expand_sources,
    limit_rows,
    load_exclusion_texts,
    load_training_sets,
    source_limits,
    split_dev,
)
from luxembedder.training.negatives import HardNegativeGenerator
from luxembedder.utils.io import atomic_directory, atomic_write_json, atomic_write_text
from luxembedder.utils.provenance import cpu_supports_bf16, now_iso, peak_rss_mb, versions

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Where the model went and what was measured (dev metrics, training summary)."""

    out_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class PreparedData:
    """Everything data-related, validated before the model is loaded."""

    train: dict[str, PairSet]
    dev: dict[str, PairSet]
    datasets: dict[str, Any]
    counts: dict[str, dict[str, int]]
    sources: list[dict[str, Any]]
    leakage_dropped: dict[str, int]
    negatives: dict[str, Any]
    evaluation_sets: dict[str, int] = field(default_factory=dict)
    limited: dict[str, int] = field(default_factory=dict)

    @property
    def distill(self) -> dict[str, PairSet]:
        """The training sets trained by distillation (their datasets need the teacher)."""
        return {k: v for k, v in self.train.items() if v.objective == "distill"}


# ------------------------------------------------------------------------------------------ helpers


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def bf16_supported() -> bool:
    """Native bf16 on this machine: a CUDA device with bf16, or a CPU with AVX512-BF16/AMX."""
    import torch

    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    return cpu_supports_bf16()


def prepare_data(config: TrainConfig, settings: Settings | None = None) -> PreparedData:
    """Load, validate, dedupe, leakage-filter and split every source; build the contrastive datasets.

    No model is needed: every input problem surfaces here. Distillation sets get their datasets in
    :func:`train`, once the teacher is loaded (:func:`luxembedder.training.distill.distillation_rows`).
    """
    from datasets import Dataset

    settings = settings or get_settings()
    sets = load_training_sets(config.all_sources, settings.data_dir)
    leakage: dict[str, int] = {}
    eval_sets: dict[str, int] = {}
    if config.leakage_check:
        files = config.exclude_files if config.exclude_files is not None else default_exclusion_files(
            settings.data_dir)
        for f in files:
            if not Path(f).is_file():
                raise DataError("leakage-exclusion file not found", f, field="exclude_files")
        excluded = load_exclusion_texts(files) if files else set()
        if config.exclude_evaluation_sets:
            eval_texts, eval_sets = evaluation_exclusions(settings.data_dir, sets)
            excluded |= eval_texts
        if excluded:
            leakage = drop_leakage(sets, excluded)
            logger.info("leakage check against %s%s: dropped %s", ", ".join(map(str, files)) or "-",
                        f" and {len(eval_sets)} evaluation sets" if eval_sets else "", leakage)
        else:
            logger.warning("leakage check: no exclusion files or evaluation sets found (no data directory?)")
    limited = limit_rows(sets, source_limits(config.all_sources, sets), config.dev_seed)
    lexical = {k: v for k, v in sets.items() if v.kind == "letz"}
    train, dev = split_dev({k: v for k, v in sets.items() if k not in lexical}, config.dev_fraction,
                           config.dev_size, config.dev_max, config.dev_seed)
    train.update(lexical)
    datasets: dict[str, Any] = {}
    neg_stats: dict[str, Any] = {}
    hn = config.hard_negatives
    if hn.enabled:
        gen = HardNegativeGenerator(hn.edits, seed=hn.seed)
    for name, ps in train.items():
        if len(ps) < 2:
            raise DataError(f"pair set {name}: fewer than 2 training pairs after the dev split",
                            ps.sources[0].path if ps.sources else None)
        if ps.objective == "distill":
            continue
        if ps.negatives is not None:
            datasets[name] = Dataset.from_dict({"anchor": ps.first, "positive": ps.second, "negative": ps.negatives})
            continue
        if not hn.enabled or ps.kind == "letz":
            datasets[name] = Dataset.from_dict({"anchor": ps.first, "positive": ps.second})
            continue
        lang1, lang2 = ps.languages
        plain_a, plain_p, trip_a, trip_p, trip_n = [], [], [], [], []
        by_edit: dict[str, int] = {}
        for a, p in zip(ps.first, ps.second, strict=True):
            neg = None
            if hn.side in ("first", "either"):
                neg = gen.generate(a, lang1, other=p)
            if neg is None and hn.side in ("second", "either"):
                neg = gen.generate(p, lang2, other=a)
            if neg is None:
                plain_a.append(a)
                plain_p.append(p)
            else:
                trip_a.append(a)
                trip_p.append(p)
                trip_n.append(neg.text)
                by_edit[neg.edit] = by_edit.get(neg.edit, 0) + 1
        neg_stats[name] = {"with_negative": len(trip_a), "without": len(plain_a), "by_edit": by_edit}
        logger.info("%s: hard negatives for %d of %d pairs %s", name, len(trip_a), len(ps), by_edit)
        if len(plain_a) >= 2:
            datasets[name] = Dataset.from_dict({"anchor": plain_a, "positive": plain_p})
        if len(trip_a) >= 2:
            datasets[f"{name}+hn"] = Dataset.from_dict(
                {"anchor": trip_a, "positive": trip_p, "negative": trip_n})
    counts = {name: {"train": len(train[name]), "dev": len(dev.get(name, ()))} for name in train}
    sources = [r.to_dict() for ps in sets.values() for r in ps.sources]
    return PreparedData(train, dev, datasets, counts, sources, leakage, neg_stats, eval_sets, limited)


class _RecordingSimilarity:
    """Wraps a loss's similarity function and records the most candidates any anchor was scored against
    (with gathered negatives under DDP this is world_size × batch × columns)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.max_candidates = 0
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, a: Any, b: Any) -> Any:
        out = self.fn(a, b)
        self.max_candidates = max(self.max_candidates, int(out.shape[-1]))
        return out


def build_loss(config: TrainConfig, model: Any, settings: Settings | None = None) -> Any:
    """The configured sentence-transformers loss (``gather_across_devices`` where supported)."""
    from sentence_transformers.sentence_transformer import losses

    gather = config.gather_across_devices and _world_size() > 1
    if config.loss == "mnrl":
        loss = losses.MultipleNegativesRankingLoss(model, scale=config.scale, gather_across_devices=gather)
    elif config.loss == "mnrl-symmetric":
        loss = losses.MultipleNegativesRankingLoss(
            model, scale=config.scale, gather_across_devices=gather,
            directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction")
    elif config.loss == "cached-mnrl":
        loss = losses.CachedMultipleNegativesRankingLoss(
            model, scale=config.scale, mini_batch_size=config.cached_mini_batch_size,
            gather_across_devices=gather)
    elif config.loss == "gist":
        guide = load_sentence_transformer(config.guide_model, settings)  # type: ignore[arg-type]
        loss = losses.GISTEmbedLoss(model, guide, temperature=config.gist_temperature,
                                    gather_across_devices=gather)
        return loss
    else:  # pragma: no cover - the config's Literal rejects it first
        raise ConfigError(f"unknown loss '{config.loss}'")
    loss.similarity_fct = _RecordingSimilarity(loss.similarity_fct)
    return loss


def add_distillation_datasets(config: TrainConfig, data: PreparedData, settings: Settings) -> None:
    """Embed the high-resource side of every distillation set with the (cached) teacher; add MSE datasets."""
    from datasets import Dataset
    from luxembedder.training.distill import distillation_rows, load_teacher  # imports torch (WeightedLoss)

    assert config.teacher_model  # the config validator guarantees a teacher for distillation sources
    teacher = load_teacher(config.teacher_model, settings, config.teacher_cache)
    for name, ps in data.distill.items():
        t0 = time.perf_counter()
        data.datasets[name] = Dataset.from_dict(distillation_rows(ps.first, ps.second, teacher))
        logger.info("%s: teacher targets for %d pairs in %.1f s (%s; cache hits %d, misses %d)", name, len(ps),
                    time.perf_counter() - t0, teacher.name, teacher.hits, teacher.misses)


def dataset_losses(data: PreparedData, model: Any, contrastive: Any) -> dict[str, Any]:
    """One loss per training dataset: the contrastive loss or MSE (distillation), times the source's weight."""
    from sentence_transformers.sentence_transformer.losses import MSELoss

    from luxembedder.training.distill import WeightedLoss  # a torch.nn.Module: importing it imports torch

    mse = MSELoss(model) if data.distill else None
    out: dict[str, Any] = {}
    for name in data.datasets:
        ps = data.train[name.removesuffix("+hn")]
        loss = mse if ps.objective == "distill" else contrastive
        out[name] = loss if ps.weight == 1.0 else WeightedLoss(loss, ps.weight)
    return out


def format_log(logs: dict[str, Any], step: int) -> str:
    """One readable line for a trainer log entry: ``step 10 · loss 1.084 · lr 4.72e-05 · grad_norm 2.84``.

    >>> format_log({"loss": 1.0843, "learning_rate": 4.722e-05, "epoch": 0.1818, "total_flos": 9.0}, 10)
    'step 10 · loss 1.084 · lr 4.722e-05 · epoch 0.18'
    """
    names = {"learning_rate": "lr", "train_runtime": "runtime_s", "train_samples_per_second": "rows/s",
             "train_steps_per_second": "steps/s", "train_loss": "mean loss"}
    parts = [f"step {step}"]
    for k, v in logs.items():
        if k == "total_flos":
            continue
        name = names.get(k, k)
        if isinstance(v, float):
            v = f"{v:.2f}" if k == "epoch" else (f"{v:.3e}" if abs(v) < 1e-3 and v else f"{v:.4g}")
        parts.append(f"{name} {v}")
    return " · ".join(parts)


def _readable_log_callbacks(progress_bar: bool) -> tuple[Any, Any]:
    """``(callback to remove, callback to add)``: transformers prints each log entry as a dict of strings
    (``PrinterCallback`` without a progress bar, ``ProgressCallback`` with one); ours writes one
    :func:`format_log` line, through the bar when there is one, else through ``logging``."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback

    class ReadableProgress(ProgressCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if state.is_world_process_zero and self.training_bar is not None and logs:
                self.training_bar.write(format_log(logs, state.global_step))

    class ReadableLogs(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if state.is_world_process_zero and logs:
                logger.info("%s", format_log(logs, state.global_step))

    return (ProgressCallback, ReadableProgress) if progress_bar else (PrinterCallback, ReadableLogs)


def _hf_module(model: Any) -> Any:
    """The first Hugging Face model inside a sentence-transformers model (the one with input embeddings)."""
    for module in model.modules():
        if callable(getattr(module, "get_input_embeddings", None)) and hasattr(module, "config"):
            return module
    return None


def _freeze_embeddings(model: Any) -> int:
    hf = _hf_module(model)
    emb = hf.get_input_embeddings() if hf is not None else None
    if emb is None:
        raise ConfigError("freeze_embeddings: no token-embedding table found in this model")
    emb.weight.requires_grad_(False)
    return emb.weight.numel()


def _transformer_layers(model: Any) -> tuple[Any, Any]:
    """The embedding block and the stack of transformer layers of the first Hugging Face model inside ``model``."""
    import torch.nn as nn

    hf = _hf_module(model)
    if hf is not None:
        for name, sub in hf.named_modules():
            if isinstance(sub, nn.ModuleList) and name.rsplit(".", 1)[-1] in ("layer", "layers"):
                return getattr(hf, "embeddings", None) or hf.get_input_embeddings(), sub
    raise ConfigError("freeze_layers: no transformer layer stack (a ModuleList named 'layer' or 'layers') found")


def _freeze_layers(model: Any, n_layers: int) -> int:
    """Freeze the embedding block and the lowest ``n_layers`` transformer layers; return the frozen parameter count."""
    embeddings, layers = _transformer_layers(model)
    if n_layers > len(layers):
        raise ConfigError(f"freeze_layers: {n_layers} requested but the model has {len(layers)} transformer layers")
    n = 0
    for module in [embeddings, *list(layers)[:n_layers]]:
        for p in module.parameters():
            if p.requires_grad:
                p.requires_grad_(False)
                n += p.numel()
    return n


def _batch_sampler(config: TrainConfig) -> Any:
    from sentence_transformers.base.sampler import BatchSamplers

    if config.length_grouping:
        # a sentence-transformers sampler subclass: importing it imports sentence-transformers
        from luxembedder.training.sampler import length_grouped_sampler

        return length_grouped_sampler(config.length_group_batches)
    return BatchSamplers.NO_DUPLICATES if config.no_duplicates else BatchSamplers.BATCH_SAMPLER


def build_evaluator(dev: dict[str, PairSet], batch_size: int) -> Any | None:
    """Bitext retrieval (both directions, top-1) on each held-out pair set; main score = their mean.

    During training sentence-transformers runs it on rank 0 only and broadcasts the metrics.
    """
    from sentence_transformers.base.evaluation import SequentialEvaluator
    from sentence_transformers.sentence_transformer.evaluation import TranslationEvaluator

    if not dev:
        return None
    evaluators = [TranslationEvaluator(ps.first, ps.second, name=f"dev_{name}", batch_size=batch_size,
                                       write_csv=False) for name, ps in sorted(dev.items())]
    return SequentialEvaluator(evaluators, main_score_function=lambda scores: sum(scores) / len(scores))


def _evaluate_on_rank_zero(evaluator: Any, model: Any) -> dict[str, float]:
    """Run the evaluator on rank 0 and broadcast the metrics to every DDP process."""
    import torch.distributed as dist

    if evaluator is None:
        return {}
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return {k: float(v) for k, v in evaluator(model).items()}
    box: list[Any] = [None]
    if dist.get_rank() == 0:
        box[0] = {k: float(v) for k, v in evaluator(model).items()}
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _checkpointing_kwargs(enabled: bool) -> dict[str, bool]:
    """Activation (gradient) checkpointing under whichever name this transformers version uses."""
    if not enabled:
        return {}
    from dataclasses import fields

    from sentence_transformers import SentenceTransformerTrainingArguments

    names = {f.name for f in fields(SentenceTransformerTrainingArguments)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": True}


def _work_dir(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.train-work"


# ------------------------------------------------------------------------------------------ train


def train(config: TrainConfig, settings: Settings | None = None, callbacks: list[Any] | None = None) -> TrainResult:
    """Fine-tune ``config.model`` on ``config.pairs`` and write a sentence-transformers folder.

    Checkpoints go to a work directory beside ``config.output_dir`` (``.<name>.train-work``); with
    ``config.resume`` training continues from its last checkpoint. The final folder appears complete or not
    at all. Under ``torchrun``/``accelerate launch`` every process runs this; rank 0 writes the output.
    ``callbacks`` are extra ``transformers.TrainerCallback`` objects.
    """
    settings = settings or get_settings()
    if config.output_dir is None:
        raise ConfigError("output_dir is required (--out DIR)")
    # fail fast: model reference and pair files are checked before torch/transformers are imported (~20 s)
    resolve_model(config.model, settings)
    files = [s for s in config.all_sources if isinstance(s, PairSource)]
    if not files and not config.sources:
        raise ConfigError("no pair sources given (pass --pairs PATH or set 'pairs' / 'sources' in the config)")
    if files:
        expand_sources(files)

    import torch
    import transformers
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import MultiDatasetBatchSamplers
    from transformers.trainer_utils import get_last_checkpoint

    out_dir = Path(config.output_dir).expanduser().resolve()
    work = _work_dir(out_dir)
    ckpt_dir = work / "checkpoints"
    last = get_last_checkpoint(str(ckpt_dir)) if config.resume and ckpt_dir.is_dir() else None
    if config.resume and last is None and ckpt_dir.is_dir():
        logger.warning("resume requested but no checkpoint in %s: starting from the beginning", ckpt_dir)
    if not config.resume and work.exists() and _rank() == 0:
        shutil.rmtree(work)

    # 1. data: every input problem surfaces here, before the model is loaded
    data = prepare_data(config, settings)
    if config.threads:
        torch.set_num_threads(config.threads)

    # 2. model and loss
    transformers.set_seed(config.seed)
    model = load_sentence_transformer(config.model, settings)
    if config.max_seq_length:
        model.max_seq_length = config.max_seq_length
    frozen = _freeze_embeddings(model) if config.freeze_embeddings else 0
    if config.freeze_layers:
        frozen += _freeze_layers(model, config.freeze_layers)
    use_bf16 = bool(config.bf16 and bf16_supported())
    if config.bf16 and not use_bf16:
        logger.warning("bf16 requested but this machine has no native bf16 (CPU without AVX512-BF16/AMX, "
                       "no CUDA); training in fp32")
    loss = build_loss(config, model, settings)
    if data.distill:
        add_distillation_datasets(config, data, settings)
    losses = dataset_losses(data, model, loss)
    prompt = model.prompts.get(model.default_prompt_name) if model.default_prompt_name else None
    evaluator = build_evaluator(data.dev, config.batch_size)

    # 3. trainer
    has_dev = evaluator is not None
    steps_mode = config.eval_steps is not None or config.save_steps is not None
    strategy = "steps" if steps_mode else "epoch"
    save_steps = config.save_steps or config.eval_steps or 500
    eval_steps = config.eval_steps or save_steps
    args = SentenceTransformerTrainingArguments(
        output_dir=str(ckpt_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        learning_rate=config.lr,
        warmup_steps=min(config.warmup_ratio, 1 - 1e-9),  # transformers>=5: a float < 1 is a ratio of all steps
        weight_decay=config.weight_decay,
        seed=config.seed,
        data_seed=config.seed,
        bf16=use_bf16,
        use_cpu=not torch.cuda.is_available(),
        batch_sampler=_batch_sampler(config),
        multi_dataset_batch_sampler=(MultiDatasetBatchSamplers.ROUND_ROBIN
                                     if config.multi_dataset_sampler == "round_robin"
                                     else MultiDatasetBatchSamplers.PROPORTIONAL),
        prompts=prompt,
        eval_strategy=strategy if has_dev else "no",
        eval_steps=eval_steps if has_dev and steps_mode else None,
        save_strategy=strategy,
        save_steps=save_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=bool(has_dev and config.early_stopping_patience),
        metric_for_best_model="eval_sequential_score" if has_dev else None,
        greater_is_better=True,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        report_to=list(config.report_to) or "none",
        disable_tqdm=not logger.isEnabledFor(logging.INFO),
        dataloader_num_workers=0,
        ddp_backend="gloo" if _world_size() > 1 and not torch.cuda.is_available() else None,
        ddp_find_unused_parameters=True if _world_size() > 1 else None,  # e.g. the unused BERT pooler
        **_checkpointing_kwargs(config.gradient_checkpointing),
    )
    cbs = list(callbacks or [])
    if config.early_stopping_patience and has_dev:
        cbs.append(transformers.EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    if len(data.datasets) > 1:
        train_ds, train_loss = data.datasets, losses
    else:
        train_ds, train_loss = next(iter(data.datasets.values())), next(iter(losses.values()))
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train_ds, loss=train_loss,
                                         evaluator=evaluator, callbacks=cbs)
    printer, readable = _readable_log_callbacks(progress_bar=not args.disable_tqdm)
    trainer.remove_callback(printer)
    trainer.add_callback(readable)
    n_pairs = sum(len(d) for d in data.datasets.values())
    logger.info("training %s on %s (%d rows), loss %s, batch %d, %s", config.model,
                ", ".join(f"{k}: {len(v)}" for k, v in data.datasets.items()), n_pairs,
                ", ".join(sorted({type(getattr(v, "inner", v)).__name__ for v in losses.values()})),
                config.batch_size, f"resuming from {last}" if last else "from the start")
    t0 = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=last)
    train_seconds = time.perf_counter() - t0
    dev_metrics = _evaluate_on_rank_zero(evaluator, model)
    _barrier()

    # 4. output (rank 0), atomically
    summary: dict[str, Any] = {
        "train_runtime_s": round(train_seconds, 2),
        "global_step": int(trainer.state.global_step),
        "epochs_done": float(trainer.state.epoch or 0),
        "train_loss": float(output.training_loss),
        "train_samples": n_pairs,
        "pairs_per_second": round(trainer.state.global_step * config.batch_size * _world_size() / train_seconds,
                                  3) if train_seconds > 0 else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "frozen_parameters": frozen,
        "bf16": use_bf16,
        "world_size": _world_size(),
        "max_candidates_per_anchor": getattr(loss.similarity_fct, "max_candidates", None),
        "best_checkpoint": trainer.state.best_model_checkpoint,
    }
    metrics = {"dev": dev_metrics, "train": summary}
    if _rank() == 0:
        base_name = model_name(config.model, settings)
        with atomic_directory(out_dir) as tmp:
            model.save(str(tmp), safe_serialization=True, create_model_card=False)
            config.save(tmp / "train_config.yaml")
            atomic_write_json(tmp / "training_log.json", trainer.state.log_history)
            meta = {
                "kind": "luxembedder-trained-model",
                "base_model": base_name,
                "base_model_ref": config.model,
                "created": now_iso(),
                "loss": config.loss,
                "prompt": prompt,
                "data": data.sources,
                "pair_counts": data.counts,
                "hard_negatives": data.negatives if config.hard_negatives.enabled else None,
                "leakage_dropped": data.leakage_dropped,
                "leakage_evaluation_sets": data.evaluation_sets,
                "rows_over_max_rows": data.limited,
                "objectives": {k: {"objective": v.objective, "weight": v.weight, "kind": v.kind}
                               for k, v in data.train.items()},
                "teacher": config.teacher_model if data.distill else None,
                "metrics": metrics,
                "config": config.model_dump(mode="json"),
                "versions": versions(),
            }
            atomic_write_json(tmp / "luxembedder.json", meta)
            atomic_write_text(tmp / "README.md", model_card(meta))
        if not config.keep_checkpoints:
            shutil.rmtree(work, ignore_errors=True)
        logger.info("model written to %s; dev %s", out_dir, dev_metrics)
    _barrier()
    return TrainResult(out_dir, metrics)

