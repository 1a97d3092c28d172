"""``luxembedder analyze cka|experiment``: cross-lingual alignment and the controlled lb experiment."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.analysis.alignment import CkaConfig, mean_with, run_cka
from luxembedder.analysis.experiment import ExperimentConfig, run_experiment
from luxembedder.cli.common import Layers, console, examples, print_table, settings_from, value


def register(app: typer.Typer) -> None:
    analyze_app = typer.Typer(help="Cross-lingual alignment (CKA) and the controlled experiment.",
                              no_args_is_help=True,
                              epilog=examples("luxembedder analyze cka -m me5-small -o runs/cka --debiased",
                                              "luxembedder analyze experiment -c configs/experiment.yaml --quick"))

    @analyze_app.command("cka", epilog=examples(
        "luxembedder analyze cka -m me5-small -m runs/demo/demo-finetuned --langs ltz_Latn,eng_Latn,fra_Latn "
        "--layers final -o runs/cka --debiased"))
    def cka_cmd(
        ctx: typer.Context,
        model: list[str] = typer.Option(["me5-small"], "--model", "-m",
                                        help="Model reference (repeat for two models: base, then fine-tuned)."),
        langs: str | None = typer.Option(None, "--langs", help="Comma-separated FLORES codes (default: 20)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output directory."),
        layers: Layers = typer.Option(Layers("all"), "--layers", help="Every layer, or only the final embedding."),
        n: int | None = typer.Option(None, "--n", help="First N devtest sentences (default: all 1012)."),
        debiased: bool = typer.Option(False, "--debiased", help="Debiased CKA estimator (unbiased HSIC, Song et "
                                      "al. 2012); advised when sentences < embedding dimensions."),
        batch_size: int = typer.Option(32, "--batch-size", min=1, help="Sentences per forward pass."),
        config: Path | None = typer.Option(None, "--config", "-c", help="YAML with CkaConfig keys (flags override)."),
    ) -> None:
        """Language × language linear CKA on FLORES-200 devtest, per layer; writes OUT/cka.json and plots."""
        base = CkaConfig.from_yaml(config) if config else CkaConfig()
        cfg = base.with_overrides(
            models=model or None,
            languages=[s.strip() for s in langs.split(",") if s.strip()] if langs else None,
            layers=value(layers), n=n, debiased=debiased or None, batch_size=batch_size,
        )
        result = run_cka(cfg, out, settings_from(ctx))
        rows = [{"model": r["model"], "layer": r["layer"], f"mean CKA with {cfg.reference}": mean_with(r, cfg.reference)}
                for r in result["results"] if r["layer"] == "final" or cfg.layers == "all"]
        print_table(rows, title=f"linear CKA, FLORES devtest ({out / 'cka.json'})")
        if "change" in result:
            print_table(result["change"], title="change (second − first), final embedding")
        for warning in result.get("warnings", []):
            console.print(f"[yellow]warning:[/yellow] {warning}")

    @analyze_app.command("experiment", epilog=examples(
        "luxembedder analyze experiment -c configs/experiment.yaml --quick -o runs/experiment-quick",
        "luxembedder analyze experiment -c configs/experiment.yaml --report-only"))
    def experiment_cmd(
        ctx: typer.Context,
        config: Path = typer.Option(..., "--config", "-c", help="Experiment YAML (ExperimentConfig)."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Experiment directory.",
                                        show_default="from the config"),
        quick: bool = typer.Option(False, "--quick", help="Tiny smoke-test budget (few pairs, sentences)."),
        report_only: bool = typer.Option(False, "--report-only",
                                         help="Train nothing; report on the seeds already finished."),
        reverse: bool = typer.Option(False, "--reverse",
                                     help="Walk (condition, seed) units from the last: a second worker on the "
                                     "same folder meets the first in the middle."),
    ) -> None:
        """Train one model per condition and seed, evaluate, and write experiment.json / experiment.md."""
        cfg = ExperimentConfig.from_yaml(config)
        if quick:
            cfg = cfg.quick()
        result = run_experiment(cfg, out, settings_from(ctx), train_missing=not report_only,
                                reverse=reverse)
        print_table(result.verdict_rows(), title=f"experiment: {result.out_dir}/experiment.md")

    app.add_typer(analyze_app, name="analyze")
