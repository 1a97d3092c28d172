"""``luxembedder demo``: the main job on the embedded default."""

from __future__ import annotations

import typer

from luxembedder.cli.common import console, settings_from


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(ctx: typer.Context) -> None:
        """Prepare the offline base model and show lb→en/fr translation retrieval on bundled sentences."""
        from rich.table import Table

        from luxembedder.models.registry import load_encoder, prepare_model
        from luxembedder.recipe.retrieval import retrieval_accuracy, retrieval_table

        settings = settings_from(ctx)
        prepare_model("me5-small", settings)
        encoder = load_encoder("me5-small", settings)
        rows = retrieval_table(encoder)
        table = Table(title="lb → en / fr translation retrieval (me5-small, bundled sentences)")
        for col in ("Luxembourgish", "en", "cos", "fr", "cos"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["lb"], ("✓ " if r["en_ok"] else "✗ ") + r["en_retrieved"], f"{r['en_cos']:.3f}",
                          ("✓ " if r["fr_ok"] else "✗ ") + r["fr_retrieved"], f"{r['fr_cos']:.3f}")
        console.print(table)
        acc = retrieval_accuracy(rows)
        console.print(f"top-1 accuracy: lb→en {acc['en']:.0%}, lb→fr {acc['fr']:.0%}")
