"""``luxembedder mine`` and ``luxembedder merge-runs``: thin wrappers over :mod:`luxembedder.mining`."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import typer

from luxembedder.checks import check_mining
from luxembedder.cli.common import (
    BACKEND_HELP,
    EXIT_EMPTY,
    Backend,
    Columns,
    Engine,
    Preset,
    Scoring,
    console,
    examples,
    print_table,
    settings_from,
)
from luxembedder.cli.common import value as plain
from luxembedder.cli.options import multi_value_command
from luxembedder.errors import ConfigError
from luxembedder.mining import MiningConfig, evaluate_run, merge_runs, mine
from luxembedder.mining.pipeline import empty_causes, summary_rows


def _parse_shard(value: str | None) -> tuple[_dt.date | None, _dt.date | None]:
    if not value:
        return None, None
    try:
        start, end = value.split(":")
        return (_dt.date.fromisoformat(start) if start else None, _dt.date.fromisoformat(end) if end else None)
    except ValueError:
        raise ConfigError(f"--shard '{value}': expected START:END as ISO dates, e.g. 2020-01-01:2020-06-30") from None


def check_empty(report: dict, allow_empty: bool) -> None:
    """Warn about each language pair without pairs (naming the cause); exit 3 when no pair at all was mined,
    unless ``allow_empty``."""
    import logging

    causes = empty_causes(report)
    log = logging.getLogger("luxembedder.cli")
    for pair, cause in causes.items():
        log.warning("%s: no pairs mined: %s", pair, cause)
    if causes and len(causes) == len(report["pairs"]) and not allow_empty:
        typer.secho(f"warning: no pairs mined ({'; '.join(f'{p}: {c}' for p, c in causes.items())}); "
                    f"exit code {EXIT_EMPTY} (--allow-empty accepts an empty result)", fg=typer.colors.YELLOW,
                    err=True)
        raise typer.Exit(EXIT_EMPTY)


def register(app: typer.Typer) -> None:
    @app.command("mine", cls=multi_value_command("--articles", "-a"), epilog=examples(
        "luxembedder mine -a lb.jsonl en.jsonl fr.jsonl -o runs/mine --pairs lb-en,lb-fr",
        "luxembedder mine -a articles.parquet -o runs/mine --preset improved -m me5-small",
        "luxembedder mine -a articles.jsonl -o runs/mine -c configs/mine.yaml --dry-run"))
    def mine_cmd(
        ctx: typer.Context,
        articles: list[Path] = typer.Option(..., "--articles", "-a", help="Article files (JSONL/JSON/CSV/TSV/"
                                            "Parquet): --articles a.jsonl b.jsonl, or repeat the option."),
        out: Path = typer.Option(..., "--out", "-o", help="Run directory (re-running resumes / is a no-op)."),
        pairs: str | None = typer.Option(None, "--pairs", help="Language pairs, e.g. lb-en,lb-fr.",
                                         show_default="from the config"),
        model: str | None = typer.Option(None, "--model", "-m", help="Embedding model (registry name or folder).",
                                         show_default="from the config"),
        config: Path | None = typer.Option(None, "--config", "-c", help="Mining config YAML (MiningConfig)."),
        preset: Preset | None = typer.Option(None, "--preset", help="parity (the paper's settings) or improved "
                                             "(margin scoring).", show_default="parity"),
        scoring: Scoring | None = typer.Option(None, "--scoring", help="Sentence-pair score.",
                                               show_default="from the preset or config"),
        shard: str | None = typer.Option(None, "--shard", help="Only lb articles published in START:END."),
        lenient: bool = typer.Option(False, "--lenient", help="Quarantine bad rows in rejected.jsonl."),
        gold: Path | None = typer.Option(None, "--gold", help="Benchmark dir or gold.jsonl: write evaluation.json."),
        columns: Columns | None = typer.Option(None, "--columns", help="Column preset of the article files.",
                                               show_default="default"),
        allow_empty: bool = typer.Option(False, "--allow-empty", help="Exit 0 even when no pair is mined "
                                         "(otherwise: a warning naming the cause and exit code 3)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Validate the config, every article row and the "
                                     "model, print the plan, create nothing."),
        backend: Backend | None = typer.Option(None, "--backend", help=BACKEND_HELP),
        engine: Engine | None = typer.Option(None, "--engine", help="local or ray (see docs/scaling.md)."),
        ray_address: str | None = typer.Option(None, "--ray-address", help="auto or HOST:PORT (default: "
                                               "start a local Ray)."),
    ) -> None:
        """Mine parallel sentence pairs from multilingual news articles (LuxAlign)."""
        if config is not None and preset is not None:
            raise ConfigError("give either --config or --preset, not both")
        cfg = MiningConfig.from_yaml(config) if config else MiningConfig.preset(plain(preset) or "parity")
        data = cfg.model_dump()
        if pairs:
            data["pairs"] = [p.strip() for p in pairs.split(",") if p.strip()]
        if model:
            data["embedding"]["model"] = model
        if scoring:
            data["scoring"]["method"] = plain(scoring)
        if columns:
            data["input"]["column_preset"] = plain(columns)
        backend, engine = plain(backend), plain(engine)
        if backend:
            data["embedding"]["backend"] = backend
        if engine:
            data["execution"]["engine"] = engine
        if ray_address:
            if engine == "local":
                raise ConfigError("--ray-address needs --engine ray (it was given with --engine local)")
            data["execution"]["ray_address"] = ray_address
            data["execution"]["engine"] = "ray"
        start, end = _parse_shard(shard)
        if shard:
            data["shard"] = {"start": start, "end": end}
        cfg = MiningConfig.from_dict(data, source="<command-line>")
        if dry_run:
            print_table(check_mining(articles, out, cfg, settings_from(ctx), lenient=lenient),
                        title="dry run: mine (nothing created)")
            return
        result = mine(articles, out, cfg, settings=settings_from(ctx), lenient=lenient)
        print_table(summary_rows(result.report), title="LuxAlign mining")
        if result.report.get("rejected_rows"):
            console.print(f"rejected input rows: {result.report['rejected_rows']} (see {out / 'rejected.jsonl'})")
        if gold is not None:
            ev = evaluate_run(out, gold)
            print_table([{"pair": p, "precision": v["precision"], "recall": v["recall"], "f1": v["f1"],
                          "mined": v["mined"], "gold": v["gold"]} for p, v in ev["pairs"].items()],
                        title="against the gold alignments")
        console.print(f"stages run: {', '.join(result.stages_run) or 'none (up to date)'}")
        typer.echo(str(result.out_dir))
        check_empty(result.report, allow_empty)

    @app.command("merge-runs", epilog=examples(
        "luxembedder merge-runs runs/mine-2020H1 runs/mine-2020H2 -o runs/mine-2020"))
    def merge_cmd(
        ctx: typer.Context,
        runs: list[Path] = typer.Argument(..., help="Finished run directories (e.g. one per date shard)."),
        out: Path = typer.Option(..., "--out", "-o", help="Merged output directory."),
    ) -> None:
        """Merge shard runs: drop cross-shard duplicates, re-apply dedup, one-to-one and leakage filters."""
        rep = merge_runs(runs, out, settings=settings_from(ctx))
        print_table([{"pair": p, **{k: v[k] for k in ("candidates_in", "final")}} for p, v in rep["selection"].items()],
                    title="merged runs")
        typer.echo(str(out))
