"""``luxembedder run --config FILE``: mine → train → evaluate → report from one file."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.checks import check_recipe
from luxembedder.cli.common import console, examples, print_table, settings_from
from luxembedder.recipe.config import RecipeConfig
from luxembedder.recipe.run import run_recipe
from luxembedder.utils import report as R


def show_result(result) -> None:
    """Print the headline table (percent, 95% CI, Δ with its paired test) and the report's path (shared with
    ``demo``)."""
    rows = [{"task": r["task"], "subset": r["subset"], "protocol": r["protocol"],
             "base": R.score(r.get("base"), r.get("base_ci95")),
             "fine-tuned": R.score(r.get("fine-tuned"), r.get("fine-tuned_ci95")),
             "Δ points [95% CI], p": R.delta({"diff": r.get("delta"), "low": (r.get("delta_ci95") or [None, None])[0],
                                              "high": (r.get("delta_ci95") or [None, None])[1],
                                              "p_value": r.get("p_value"), "note": r.get("delta_note")})}
            for r in result.headline]
    tests = sorted({r["test"] for r in result.headline if r.get("test")})
    print_table(rows, title=f"base vs fine-tuned, main score % [95% CI]; Δ: {', '.join(tests) or 'difference'} "
                f"(data: {result.collection.kind})")
    console.print("stage seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in result.timings.items()))
    console.print(f"report: {result.report_html}")
    typer.echo(str(result.report_html))


def register(app: typer.Typer) -> None:
    @app.command("run", epilog=examples("luxembedder run -c configs/demo.yaml -o runs/recipe",
                                        "luxembedder run -c configs/paper.yaml --dry-run"))
    def run_cmd(
        ctx: typer.Context,
        config: Path = typer.Option(..., "--config", "-c", help="Recipe YAML (see configs/)."),
        out: Path = typer.Option(Path("runs/recipe"), "--out", "-o", help="Run directory (resumable)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate the config and inputs, print the plan, "
                                     "create nothing."),
    ) -> None:
        """Run the whole recipe (collection, mining, training, evaluation, report) from one config file."""
        cfg = RecipeConfig.from_yaml(config)
        if dry_run:
            print_table(check_recipe(cfg, out, settings_from(ctx)), title=f"dry run: {config} (nothing created)")
            return

        show_result(run_recipe(cfg, out, settings_from(ctx)))
