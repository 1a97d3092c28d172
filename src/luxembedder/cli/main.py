"""Entry point: ``luxembedder [-v|-q] [--data-dir DIR] [--online] <subcommand> ...``."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import typer

from luxembedder import __version__
from luxembedder.errors import LuxEmbedderError
from luxembedder.settings import get_settings
from luxembedder.utils.logging import setup_logging

logger = logging.getLogger("luxembedder")

app = typer.Typer(
    name="luxembedder",
    help="Mine, train, evaluate and analyse cross-lingual sentence embedders for Luxembourgish.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module defines ``register(app)``; the order is the order in --help.
SUBCOMMAND_MODULES = (
    "model", "embed", "datasets", "mine", "train", "eval", "analyze", "run", "demo", "results",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"luxembedder {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More logging (-v: debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Data directory (default: $LUXEMBEDDER_DATA or ../shared/data)."
    ),
    online: bool = typer.Option(False, "--online", help="Allow Hugging Face hub ids and downloads."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    setup_logging(verbose, quiet)
    ctx.obj = {"settings": get_settings(data_dir=data_dir, online=online or None)}


for _name in SUBCOMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"luxembedder.cli.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"luxembedder.cli.{_name}":
            raise
        continue
    _mod.register(app)


def main() -> None:
    """Console-script entry: user errors print one clear message and exit 2."""
    try:
        app(standalone_mode=False)
    except LuxEmbedderError as exc:
        logging.getLogger("luxembedder").debug("error", exc_info=True)
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted: finished shards and stages are kept; re-run to resume", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors etc.
        usage, abort = _click_exception_types()
        if isinstance(exc, usage):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, abort):
            sys.exit(1)
        raise


def _click_exception_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Click's usage-error and abort classes: recent typer vendors click as ``typer._click``, older ones use
    ``click`` itself, so both are looked up (whichever exist)."""
    usage: list[type] = []
    abort: list[type] = [typer.Abort]
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        usage += [c for c in (getattr(mod, "ClickException", None),) if c is not None]
        abort += [c for c in (getattr(mod, "Abort", None),) if c is not None]
    return tuple(usage), tuple(abort)


if __name__ == "__main__":
    main()
