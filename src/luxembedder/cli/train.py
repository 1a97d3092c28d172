"""``luxembedder train``: contrastive fine-tuning on translation pairs (thin wrapper over training.train)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from luxembedder.cli.common import console, print_table, settings_from


def register(app: typer.Typer) -> None:
    @app.command("train", context_settings={"allow_extra_args": True})
    def train_cmd(
        ctx: typer.Context,
        model: str | None = typer.Option(None, "--model", help="Base model: registry name or folder (default me5-small)."),
        pairs: list[Path] | None = typer.Option(
            None, "--pairs", help="Pair file(s) (lb-en.jsonl ...), mining run dir(s) or datasets dir(s); repeatable."),
        pair: str | None = typer.Option(None, "--pair", help="Language pair for every --pairs source (default: "
                                        "from the file name)."),
        min_score: float | None = typer.Option(None, "--min-score", help="Drop rows whose cos_sim is lower."),
        out: Path | None = typer.Option(None, "--out", help="Output model folder."),
        config: Path | None = typer.Option(None, "--config", help="YAML config (TrainConfig fields)."),
        epochs: float | None = typer.Option(None, "--epochs"),
        batch_size: int | None = typer.Option(None, "--batch-size"),
        lr: float | None = typer.Option(None, "--lr"),
        max_steps: int | None = typer.Option(None, "--max-steps"),
        seed: int | None = typer.Option(None, "--seed"),
        loss: str | None = typer.Option(None, "--loss", help="mnrl | mnrl-symmetric | cached-mnrl | gist"),
        guide_model: str | None = typer.Option(None, "--guide-model", help="Guide model for --loss gist."),
        hard_negatives: bool | None = typer.Option(None, "--hard-negatives/--no-hard-negatives",
                                                   help="Add rule-based minimal-edit negatives."),
        freeze_embeddings: bool | None = typer.Option(None, "--freeze-embeddings/--no-freeze-embeddings"),
        freeze_layers: int | None = typer.Option(None, "--freeze-layers",
                                                 help="Freeze the embedding block and the lowest N layers."),
        length_grouping: bool | None = typer.Option(None, "--length-grouping/--no-length-grouping",
                                                    help="Batches of similar-length pairs (less padding)."),
        bf16: bool | None = typer.Option(None, "--bf16/--no-bf16", help="Only used where natively supported."),
        gradient_checkpointing: bool | None = typer.Option(None, "--gradient-checkpointing"),
        max_seq_length: int | None = typer.Option(None, "--max-seq-length"),
        threads: int | None = typer.Option(None, "--threads", help="torch threads."),
        resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint of an earlier run."),
    ) -> None:
        """Fine-tune a sentence embedder on translation pairs; prints the output folder and dev metrics."""
        from luxembedder.training.config import TrainConfig
        from luxembedder.training.trainer import train

        cfg = TrainConfig.from_yaml(config) if config else TrainConfig()
        overrides: dict = {
            "model": model, "output_dir": out, "epochs": epochs, "batch_size": batch_size, "lr": lr,
            "max_steps": max_steps, "seed": seed, "loss": loss, "guide_model": guide_model,
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
        result = train(cfg, settings_from(ctx))
        if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
            return
        dev = result.metrics.get("dev", {})
        if dev:
            print_table([{"metric": k, "value": v} for k, v in dev.items()], title="dev (held-out pairs)")
        console.print(str(result.out_dir))
