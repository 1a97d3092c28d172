"""``luxembedder embed``: texts from a file to a float32 .npy in input order."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.cli.common import BACKEND_HELP, Backend, Engine, examples, settings_from
from luxembedder.cli.common import value as plain
from luxembedder.embedding import embed_file


def register(app: typer.Typer) -> None:
    @app.command("embed", epilog=examples(
        "luxembedder embed -m me5-small -i sentences.txt -o sentences.npy",
        "luxembedder embed -m runs/demo/demo-finetuned -i news.parquet --column title -o titles.npy"))
    def embed_cmd(
        ctx: typer.Context,
        model: str = typer.Option("me5-small", "--model", "-m", help="Registry name, local folder or hub id."),
        input: Path = typer.Option(..., "--input", "-i", help=".txt (one per line), .jsonl, .tsv, .csv, .parquet"),
        output: Path = typer.Option(..., "--output", "-o", help="Output .npy (float32, input order)."),
        column: str = typer.Option("text", "--column", help="Text column for table formats."),
        skip_empty: bool = typer.Option(False, "--skip-empty", help="Skip empty lines instead of failing."),
        batch_size: int = typer.Option(32, "--batch-size", min=1, help="Sentences per forward pass."),
        bf16: bool = typer.Option(False, "--bf16", help="Same as --backend torch-bf16."),
        backend: Backend = typer.Option("torch", "--backend", help=BACKEND_HELP),
        engine: Engine = typer.Option("local", "--engine", help="local, or ray: OUTPUT is a folder of parts "
                                   "(sharded, resumable)."),
        ray_address: str | None = typer.Option(None, "--ray-address", help="auto or HOST:PORT (default: "
                                               "start a local Ray)."),
    ) -> None:
        """Embed every text of a file with a model; ends with "N sentences in T s (X/s)" (encoding time)."""
        stats: dict[str, float] = {}
        out = embed_file(model, input, output, column=column, skip_empty=skip_empty, batch_size=batch_size,
                         bf16=bf16, settings=settings_from(ctx), stats=stats, backend=plain(backend), engine=plain(engine),
                         ray_address=ray_address)
        n, seconds = int(stats["sentences"]), stats["seconds"]
        typer.echo(str(out))
        typer.echo(f"{n:,} sentences in {seconds:.1f} s ({n / max(seconds, 1e-9):,.1f}/s)")
