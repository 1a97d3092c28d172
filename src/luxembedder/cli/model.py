"""``luxembedder model list|prepare``."""

from __future__ import annotations

import typer

from luxembedder.cli.common import examples, print_table, settings_from
from luxembedder.models.registry import list_models, prepare_model


def register(app: typer.Typer) -> None:
    model_app = typer.Typer(help="List registry models and prepare them for offline use.", no_args_is_help=True,
                            epilog=examples("luxembedder model list", "luxembedder model prepare me5-small"))

    @model_app.command("list", epilog=examples("luxembedder model list"))
    def list_cmd(ctx: typer.Context) -> None:
        """Show the registry and what is prepared locally."""
        print_table(list_models(settings_from(ctx)), title="luxembedder models",
                    columns=["name", "source", "status", "location"])

    @model_app.command("prepare", epilog=examples("luxembedder model prepare me5-small"))
    def prepare_cmd(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="Registry name, e.g. me5-small."),
        force: bool = typer.Option(False, "--force", help="Convert again even if a valid folder exists."),
    ) -> None:
        """Make a registry model available offline; prints its directory as the last line."""
        path = prepare_model(name, settings_from(ctx), force=force)
        typer.echo(str(path))

    app.add_typer(model_app, name="model")
