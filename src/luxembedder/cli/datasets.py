"""``luxembedder datasets ntrex-comparable|sample``."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.cli.common import examples, settings_from


def register(app: typer.Typer) -> None:
    ds_app = typer.Typer(help="Build benchmark data sets and locate the bundled sample.", no_args_is_help=True,
                         epilog=examples("luxembedder datasets ntrex-comparable -o runs/ntrex-bench",
                                         "luxembedder datasets sample"))

    @ds_app.command("ntrex-comparable", epilog=examples(
        "luxembedder --data-dir ../shared/data datasets ntrex-comparable -o runs/ntrex-bench --seed 1"))
    def ntrex_comparable(
        ctx: typer.Context,
        out: Path = typer.Option(..., "--out", "-o", help="Output directory (articles.jsonl, gold.jsonl, benchmark.json)."),
        seed: int = typer.Option(0, "--seed", help="Random seed (the output is deterministic for a seed)."),
        langs: str = typer.Option("lb,en,fr", "--langs", help="Pivot language first, comma-separated."),
        drop_fraction: float = typer.Option(0.15, "--drop-fraction", help="Share of sentences dropped in "
                                            "non-pivot versions."),
        shuffle_window: int = typer.Option(3, "--shuffle-window", help="Local reordering window."),
        distractors_per_day: float = typer.Option(1.0, "--distractors-per-day",
                                                  help="Distractor articles per day and language."),
        n_days: int = typer.Option(14, "--days", help="Number of publication days."),
    ) -> None:
        """Build the NTREX-128 comparable-news mining benchmark; prints the output directory."""
        from luxembedder.datasets.ntrex import build_comparable_benchmark, read_ntrex

        lang_list = [x.strip() for x in langs.split(",") if x.strip()]
        corpus = read_ntrex(settings_from(ctx).require_data_dir(), langs=lang_list)
        bench = build_comparable_benchmark(
            corpus, out, seed=seed, drop_fraction=drop_fraction, shuffle_window=shuffle_window,
            distractors_per_day=distractors_per_day, langs=lang_list, n_days=n_days,
        )
        typer.echo(str(bench.out_dir))

    @ds_app.command("sample", epilog=examples("luxembedder datasets sample"))
    def sample() -> None:
        """Print the folder of the bundled sample articles and evaluation sets."""
        from luxembedder.datasets import sample_dir

        typer.echo(str(sample_dir()))

    app.add_typer(ds_app, name="datasets")
