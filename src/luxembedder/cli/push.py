"""``luxembedder push`` (a model or pairs folder to the Hugging Face hub) and ``luxembedder card``."""

from __future__ import annotations

from pathlib import Path

import typer

from luxembedder.cli.common import console, examples, settings_from
from luxembedder.errors import ConfigError
from luxembedder.hub import detect_kind, push
from luxembedder.mining.card import write_dataset_card
from luxembedder.training.card import add_results, write_model_card


def register(app: typer.Typer) -> None:
    @app.command("push", epilog=examples(
        "luxembedder --online push runs/model --repo-id me/luxembedder-me5-small",
        "luxembedder --online push runs/mine --repo-id me/luxalign-pairs --private"))
    def push_cmd(
        ctx: typer.Context,
        path: Path = typer.Argument(..., help="A model folder (luxembedder train) or mined pairs (a run or its pairs/)."),
        repo_id: str = typer.Option(..., "--repo-id", metavar="OWNER/NAME", help="OWNER/NAME on the hub (created if missing)."),
        private: bool = typer.Option(False, "--private", help="Create the repository as private."),
        revision: str | None = typer.Option(None, "--revision", metavar="BRANCH", help="Branch to commit to (default: main)."),
        message: str | None = typer.Option(None, "--message", metavar="TEXT", help="Commit message."),
        results: Path | None = typer.Option(None, "--results", metavar="FILE", help="results.json: add this model's scores to "
                                            "its card (model-index) before pushing."),
    ) -> None:
        """Upload a model folder or mined pairs to the Hugging Face hub (online only; token: HF_TOKEN)."""
        res = push(path, repo_id, settings=settings_from(ctx), private=private, revision=revision,
                   commit_message=message, results=results)
        console.print(f"pushed {len(res.files)} files to the {res.repo_type} repository {res.repo_id}")
        typer.echo(res.url)

    @app.command("card", epilog=examples("luxembedder card runs/model --results runs/eval/results.json"))
    def card_cmd(
        ctx: typer.Context,
        path: Path = typer.Argument(..., help="A model folder (luxembedder train) or a mining run directory."),
        results: Path | None = typer.Option(None, "--results", metavar="FILE", help="results.json with this model's scores."),
        model: str | None = typer.Option(None, "--model", "-m", metavar="NAME", help="The model's name in the results "
                                         "(default: the folder's name)."),
    ) -> None:
        """(Re)write the model card or the dataset card (README.md) of a folder."""
        kind, folder = detect_kind(path)
        if kind == "model":
            out = add_results(folder, results, model=model, settings=settings_from(ctx)) if results \
                else write_model_card(folder)
        else:
            if results is not None:
                raise ConfigError("--results applies to a model folder, not to mined pairs")
            out = write_dataset_card(folder.parent)
        typer.echo(str(out))
