"""``luxembedder eval``: run the benchmark suite for one or more models."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.cli.common import BACKEND_HELP, Backend, examples, print_table, settings_from
from luxembedder.cli.common import value as plain
from luxembedder.evaluation.report import summary_rows
from luxembedder.evaluation.runner import evaluate
from luxembedder.evaluation.tasks import SuiteConfig, task_help


def register(app: typer.Typer) -> None:
    @app.command("eval", epilog=examples(
        "luxembedder eval -m me5-small -m runs/demo/demo-finetuned -t sib200-zeroshot -t paralux -o runs/eval",
        "luxembedder eval -m me5-small -t bitext:pairs.tsv:lb:en -o runs/eval-mine"))
    def eval_cmd(
        ctx: typer.Context,
        model: list[str] = typer.Option(..., "--model", "-m", help="Model reference (repeatable): registry name, "
                                        "folder, or hub id (online)."),
        task: list[str] = typer.Option(None, "--task", "-t", help="Task (repeatable; default: all built-in): "
                                       f"{task_help()}.", show_default=False),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder (results.json, report.md/html)."),
        batch_size: int = typer.Option(32, "--batch-size", min=1, help="Sentences per forward pass."),
        bf16: bool = typer.Option(False, "--bf16", help="Same as --backend torch-bf16."),
        backend: Backend = typer.Option("torch", "--backend", help=BACKEND_HELP),
        force: bool = typer.Option(False, "--force", help="Recompute model × task pairs already in results.json."),
        config: Path | None = typer.Option(None, "--config", "-c", help="YAML with a SuiteConfig (templates, "
                                           "languages, LR settings...)."),
    ) -> None:
        """Evaluate models; prints main scores with their protocols and writes results and reports."""
        cfg = SuiteConfig.from_yaml(config) if config else SuiteConfig()
        records = evaluate(model, task or None, out, settings_from(ctx), batch_size=batch_size, bf16=bf16,
                           backend=plain(backend), force=force, config=cfg, show_progress=True)
        print_table(summary_rows(records), title=f"main scores (%) — {out / 'results.json'}",
                    columns=["model", "task", "subset", "protocol", "score [95% CI]", "n"])
        typer.echo(f"reports: {out / 'report.md'}  {out / 'report.html'}")
