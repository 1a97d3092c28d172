"""``luxembedder datasets ntrex-comparable|sample|articles``."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.cli.common import examples, print_table, settings_from
from luxembedder.datasets import sample_dir
from luxembedder.datasets.crawl import crawl_articles
from luxembedder.datasets.ntrex import build_comparable_benchmark, read_ntrex


def register(app: typer.Typer) -> None:
    ds_app = typer.Typer(help="Build benchmark data sets, turn crawled news into articles, locate the bundled sample.",
                         no_args_is_help=True,
                         epilog=examples("luxembedder datasets ntrex-comparable -o runs/ntrex-bench",
                                         "luxembedder datasets articles --html saved-pages/ --lang lb -o articles.jsonl",
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
        typer.echo(str(sample_dir()))

    @ds_app.command("articles", epilog=examples(
        "luxembedder datasets articles --warc crawl.warc.gz --lang lb --out articles.jsonl",
        "luxembedder datasets articles --html saved-pages/ --rss feed.xml --lang lb -o articles.jsonl"))
    def articles(
        out: Path = typer.Option(..., "--out", "-o", metavar="FILE",
                                 help="Output article file (JSONL) for `luxembedder mine --articles`."),
        lang: str = typer.Option(..., "--lang", metavar="CODE", help="Language of the articles (ISO 639-1, e.g. lb)."),
        html: list[Path] | None = typer.Option(None, "--html", metavar="DIR", help="Folder of saved HTML pages (searched recursively)."),
        warc: list[Path] | None = typer.Option(None, "--warc", metavar="FILE", help="WARC file of a crawl (.warc or .warc.gz)."),
        rss: list[Path] | None = typer.Option(None, "--rss", metavar="FILE", help="RSS or Atom feed file."),
        min_chars: int = typer.Option(50, "--min-chars", metavar="N", help="Pages with less main text are rejected."),
    ) -> None:
        """Extract articles (text, title, date) from saved HTML pages, WARC files or RSS/Atom feeds.

        Pages without a date or text are rejected with the reason (OUT's name + .rejected.jsonl).
        """
        res = crawl_articles(out, lang, html_dirs=html or (), warcs=warc or (), feeds=rss or (),
                             min_chars=min_chars)
        print_table([{"input": k, **v} for k, v in res.per_input.items()], title="crawl input")
        if res.rejected or res.skipped:
            rows = [{"": "rejected", "reason": k, "count": v} for k, v in res.rejected.items()]
            rows += [{"": "skipped", "reason": k, "count": v} for k, v in res.skipped.items()]
            print_table(rows, title=f"rejected pages: {res.rejected_path}")
        typer.echo(str(res.out))

    app.add_typer(ds_app, name="datasets")
