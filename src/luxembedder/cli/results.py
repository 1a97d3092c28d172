"""``luxembedder results table|compare|export-mteb|copy``: work with a results.json file."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.cli.common import CompareFormat, TableFormat, examples, print_table, value
from luxembedder.errors import ConfigError
from luxembedder.evaluation.compare import compare_markdown, compare_models
from luxembedder.evaluation.mteb_export import export_mteb
from luxembedder.evaluation.report import format_table, table_rows
from luxembedder.evaluation.results import load_results, resolve_model_name, save_results


def register(app: typer.Typer) -> None:
    results_app = typer.Typer(help="Tables and exports from an evaluation results.json.", no_args_is_help=True,
                              epilog=examples("luxembedder results table runs/eval/results.json --format md",
                                              "luxembedder results compare runs/eval/results.json -b me5-small "
                                              "-m demo-finetuned"))

    @results_app.command("table", epilog=examples(
        "luxembedder results table runs/eval/results.json",
        "luxembedder results table runs/eval/results.json -f latex > table.tex",
        "luxembedder results table runs/eval/results.json -f csv > results.csv"))
    def table_cmd(
        results: Path = typer.Argument(..., help="results.json written by `luxembedder eval`."),
        fmt: TableFormat = typer.Option(TableFormat("rich"), "--format", "-f",
                                        help="rich (terminal), md or latex (models side by side, Δ to the first "
                                        "model), csv or json (one row per model and task, numbers in percent)."),
    ) -> None:
        """Print the results: percent with one decimal, 95% CI in brackets, Δ to the first model with its
        paired bootstrap interval and the p-value of the named paired test (exact McNemar or sign-flip)."""
        records = load_results(results)
        if value(fmt) == "rich":
            cols, rows = table_rows(records)
            print_table(rows, title=str(results), columns=cols)
        else:
            typer.echo(format_table(records, value(fmt)), nl=False)

    @results_app.command("compare", epilog=examples(
        "luxembedder results compare runs/eval/results.json -b me5-small -m demo-finetuned -t paralux"))
    def compare_cmd(
        results: Path = typer.Argument(..., help="results.json written by `luxembedder eval` (with per-item scores)."),
        baseline: str = typer.Option(..., "--baseline", "-b", help="Model name of the reference (or its part "
                                     "before '@')."),
        model: str = typer.Option(..., "--model", "-m", help="Model name compared with the reference."),
        task: list[str] = typer.Option([], "--task", "-t", help="Only these tasks (repeatable)."),
        resamples: int = typer.Option(2000, "--resamples", min=100, help="Bootstrap resamples / permutations."),
        seed: int = typer.Option(0, "--seed", help="Seed of the resampling."),
        fmt: CompareFormat = typer.Option(CompareFormat("md"), "--format", "-f", help="Markdown table or JSON rows."),
    ) -> None:
        """Paired difference model − baseline per task and subset, with a 95% paired-bootstrap interval and
        one p-value (exact McNemar for 0/1 items, else sign-flip), over the items both models were scored on."""
        import json

        rows = compare_models(load_results(results), baseline, model, tasks=task or None, n_resamples=resamples,
                              seed=seed, source=str(results))
        typer.echo(compare_markdown(rows, baseline, model) if value(fmt) == "md" else json.dumps(rows, indent=1), nl=False)

    @results_app.command("export-mteb", epilog=examples(
        "luxembedder results export-mteb runs/eval/results.json -o runs/mteb-results"))
    def export_cmd(
        results: Path = typer.Argument(..., help="results.json written by `luxembedder eval`."),
        out: Path = typer.Option(..., "--out", "-o", help="Folder for MTEB-format result files."),
    ) -> None:
        """Write MTEB-format result files (OUT/results/MODEL/REVISION/, with model_meta.json) for the tasks MTEB
        also has (SIB200Classification, Tatoeba, FloresBitextMining, NTREXBitextMining); records without an MTEB
        slot are named in a warning. Read them with mteb.ResultCache(OUT).load_results()."""
        for path in export_mteb(load_results(results), out).files:
            typer.echo(str(path))

    @results_app.command("copy", epilog=examples(
        "luxembedder results copy runs/eval/results.json docs/results/demo.json -t paralux -m me5-small"))
    def copy_cmd(
        results: Path = typer.Argument(..., help="results.json written by `luxembedder eval`."),
        dest: Path = typer.Argument(..., help="Where to write the copy."),
        keep_items: bool = typer.Option(False, "--keep-items", help="Keep per-item scores (for paired tests)."),
        task: list[str] = typer.Option([], "--task", "-t", help="Keep only these tasks (repeatable)."),
        model: list[str] = typer.Option([], "--model", "-m", help="Keep only these models, in this order: a name "
                                        "as in the table, or its part before '@' (repeatable)."),
    ) -> None:
        """Copy a results file after validating it, without per-item scores unless asked (for docs/results/)."""
        records = load_results(results)
        if task:
            missing = sorted(set(task) - {r.task for r in records})
            if missing:
                raise ConfigError(f"{results}: no records for task(s) {', '.join(missing)}")
            records = [r for r in records if r.task in set(task)]
        if model:
            chosen = [resolve_model_name(records, m, str(results)) for m in model]
            records = [r for m in chosen for r in records if r.model == m]  # the table's column order
        if not keep_items:
            records = [r.model_copy(update={"items": None}) for r in records]
        typer.echo(str(save_results(dest, records)))

    app.add_typer(results_app, name="results")
