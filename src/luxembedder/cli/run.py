"""``luxembedder run --config FILE``: mine → train → evaluate → report from one file."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.cli.common import console, print_table, settings_from


def show_result(result) -> None:
    """Print the headline table and the report's path (shared with ``demo``)."""
    rows = [{"task": r["task"], "subset": r["subset"], "protocol": r["protocol"],
             "base": r.get("base"), "fine-tuned": r.get("fine-tuned"), "Δ": r.get("delta")}
            for r in result.headline]
    print_table(rows, title=f"base vs fine-tuned (data: {result.collection.kind})")
    console.print("stage seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in result.timings.items()))
    console.print(f"report: {result.report_html}")
    typer.echo(str(result.report_html))


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        ctx: typer.Context,
        config: Path = typer.Option(..., "--config", "-c", help="Recipe YAML (see configs/)."),
        out: Path = typer.Option(Path("runs/recipe"), "--out", "-o", help="Run directory (resumable)."),
    ) -> None:
        """Run the whole recipe (collection, mining, training, evaluation, report) from one config file."""
        from luxembedder.recipe.config import RecipeConfig
        from luxembedder.recipe.run import run_recipe

        result = run_recipe(RecipeConfig.from_yaml(config), out, settings_from(ctx))
        show_result(result)
