"""``luxembedder train``: contrastive fine-tuning on translation pairs (thin wrapper over training.train)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from luxembedder.checks import check_training
from luxembedder.cli.common import Loss, console, examples, print_table, settings_from, value
from luxembedder.training.config import TrainConfig
from luxembedder.training.trainer import train
from luxembedder.utils import report as R


def _default(field: str) -> str:
    """The TrainConfig default shown in --help (flags left unset keep the config file's value)."""
    d = TrainConfig.model_fields[field].default
    return "config file, else none" if d is None else f"config file, else {d}"


def register(app: typer.Typer) -> None:
    @app.command("train", context_settings={"allow_extra_args": True}, epilog=examples(
        "luxembedder train -m me5-small --pairs runs/mine/pairs/lb-en.jsonl -o runs/me5-lb",
        "luxembedder train -c configs/train.yaml --max-steps 200 --loss gist --guide-model me5-small -o runs/gist",
        "luxembedder train -m me5-small --pairs runs/mine -o runs/me5-lb --dry-run"))
    def train_cmd(
        ctx: typer.Context,
        model: str | None = typer.Option(None, "--model", "-m", help="Base model: registry name or folder.",
                                         show_default=_default("model")),
        pairs: list[Path] | None = typer.Option(
            None, "--pairs", "-p", help="Pair file(s) (lb-en.jsonl ...), mining run dir(s) or datasets dir(s); "
            "repeatable.", show_default=False),
        pair: str | None = typer.Option(None, "--pair", help="Language pair for every --pairs source.",
                                        show_default="from the file name"),
        min_score: float | None = typer.Option(None, "--min-score", help="Drop rows whose cos_sim is lower.",
                                               show_default="keep all"),
        out: Path | None = typer.Option(None, "--out", "-o", help="Output model folder.",
                                        show_default=_default("output_dir")),
        config: Path | None = typer.Option(None, "--config", "-c", help="YAML config (TrainConfig fields); the "
                                           "options below override it."),
        epochs: float | None = typer.Option(None, "--epochs", help="Passes over the pairs.",
                                            show_default=_default("epochs")),
        batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="Pairs per batch (in-batch "
                                              "negatives).", show_default=_default("batch_size")),
        lr: float | None = typer.Option(None, "--lr", help="Peak learning rate.", show_default=_default("lr")),
        max_steps: int | None = typer.Option(None, "--max-steps", help="Stop after N optimiser steps (-1: epochs).",
                                             show_default=_default("max_steps")),
        seed: int | None = typer.Option(None, "--seed", help="Seed (data order, dev split, init).",
                                        show_default=_default("seed")),
        loss: Loss | None = typer.Option(None, "--loss", help="Contrastive loss.", show_default=_default("loss")),
        guide_model: str | None = typer.Option(None, "--guide-model", help="Guide model for --loss gist.",
                                               show_default=False),
        hard_negatives: bool | None = typer.Option(None, "--hard-negatives/--no-hard-negatives",
                                                   help="Add rule-based minimal-edit negatives.",
                                                   show_default="config file, else off"),
        freeze_embeddings: bool | None = typer.Option(None, "--freeze-embeddings/--no-freeze-embeddings",
                                                      help="Freeze the token embeddings.",
                                                      show_default="config file, else off"),
        freeze_layers: int | None = typer.Option(None, "--freeze-layers", min=0,
                                                 help="Freeze the embedding block and the lowest N layers.",
                                                 show_default=_default("freeze_layers")),
        length_grouping: bool | None = typer.Option(None, "--length-grouping/--no-length-grouping",
                                                    help="Batches of similar-length pairs (less padding).",
                                                    show_default="config file, else off"),
        bf16: bool | None = typer.Option(None, "--bf16/--no-bf16", help="Only used where natively supported.",
                                         show_default="config file, else off"),
        gradient_checkpointing: bool | None = typer.Option(None, "--gradient-checkpointing",
                                                           help="Recompute activations (less memory, slower).",
                                                           show_default="config file, else off"),
        max_seq_length: int | None = typer.Option(None, "--max-seq-length", min=8, help="Truncate longer inputs.",
                                                  show_default="the model's"),
        threads: int | None = typer.Option(None, "--threads", min=1, help="torch threads.",
                                           show_default="torch's choice"),
        resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint of an earlier run."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate the config, model and pair files, print the "
                                     "plan, create nothing."),
    ) -> None:
        """Fine-tune a sentence embedder on translation pairs; prints the output folder and dev metrics."""
        cfg = TrainConfig.from_yaml(config) if config else TrainConfig()
        overrides: dict = {
            "model": model, "output_dir": out, "epochs": epochs, "batch_size": batch_size, "lr": lr,
            "max_steps": max_steps, "seed": seed, "loss": value(loss), "guide_model": guide_model,
            "freeze_embeddings": freeze_embeddings, "freeze_layers": freeze_layers,
            "length_grouping": length_grouping, "bf16": bf16, "gradient_checkpointing": gradient_checkpointing,
            "max_seq_length": max_seq_length, "threads": threads, "resume": resume or None,
        }
        # ``--pairs A B C``: click takes one value per flag, the rest arrive as extra arguments
        extra = [a for a in ctx.args if not a.startswith("-")]
        if len(extra) != len(ctx.args):
            raise typer.BadParameter(f"unknown option(s): {' '.join(a for a in ctx.args if a.startswith('-'))}")
        pairs = [*(pairs or []), *map(Path, extra)]
        if pairs:
            overrides["pairs"] = [{"path": str(p), "pair": pair, "min_score": min_score} for p in pairs]
        if hard_negatives is not None:
            overrides["hard_negatives"] = {**cfg.hard_negatives.model_dump(), "enabled": hard_negatives}
        cfg = cfg.with_overrides(**overrides)
        if dry_run:
            print_table(check_training(cfg, settings_from(ctx)), title="dry run: train (nothing created)")
            return
        result = train(cfg, settings_from(ctx))
        if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
            return
        dev = result.metrics.get("dev", {})
        if dev:
            print_table([{"metric": k.removeprefix("dev_"), "%": R.pct(v) if isinstance(v, int | float) else str(v)}
                         for k, v in dev.items()], title="dev retrieval (held-out pairs, %)")
        console.print(str(result.out_dir))
