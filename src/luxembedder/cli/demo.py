"""``luxembedder demo``: the main job on the embedded default."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.cli.common import examples, settings_from
from luxembedder.cli.run import show_result
from luxembedder.recipe.demo import demo_config
from luxembedder.recipe.run import run_recipe


def register(app: typer.Typer) -> None:
    @app.command("demo", epilog=examples("luxembedder demo --quick", "luxembedder demo -m me5-small -o runs/demo"))
    def demo_cmd(
        ctx: typer.Context,
        quick: bool = typer.Option(False, "--quick", help="Smoke version: small collection, 12 steps, one task."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Run directory.", show_default="runs/demo"),
        model: str | None = typer.Option(None, "--model", "-m", help="Base model.", show_default="me5-small"),
        config: Path | None = typer.Option(None, "--config", "-c", help="Recipe YAML instead of the demo's."),
    ) -> None:
        """Prepare the offline base model, mine lb-en/lb-fr pairs, fine-tune, evaluate, write a report."""
        cfg = demo_config(quick=quick, model=model, config=config)
        out = out or Path("runs/demo-quick" if quick else "runs/demo")
        show_result(run_recipe(cfg, out, settings_from(ctx)))
