"""Entry point: ``luxembedder [-v|-q] [--data-dir DIR] [--online] <subcommand> ...``."""

from __future__ import annotations

import errno
import importlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import typer

from luxembedder import __version__
from luxembedder.cli.common import EXIT_EMPTY, EXIT_OK, EXIT_USER_ERROR  # noqa: F401 (EXIT_EMPTY: re-exported)
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
    epilog="Examples:\n\n  $ luxembedder demo --quick\n\n  $ luxembedder --data-dir ../shared/data run -c configs/demo.yaml "
    "-o runs/demo\n\n  $ luxembedder COMMAND --help\n\n"
    "Exit codes: 0 success; 2 user error (bad option, input file or path, permission, disk full: one "
    "line, -v adds the traceback); 3 empty result (nothing mined; --allow-empty accepts it); 130 / 143 "
    "interrupted by Ctrl-C / SIGTERM (run the same command again to resume).",
)

# Each module defines ``register(app)``; the order is the order in --help.
SUBCOMMAND_MODULES = (
    "model", "embed", "datasets", "mine", "train", "eval", "analyze", "run", "demo", "results", "push",
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


INTERRUPTED_MESSAGE = "interrupted; run the same command again to resume"

# OS errors caused by the user's environment (paths, permissions, space), shown as one line
_USER_ERRNOS = {errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
                errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on the device (disk full)",
                errno.EDQUOT: "disk quota exceeded", errno.ENOTDIR: "not a directory",
                errno.EISDIR: "is a directory", errno.EEXIST: "already exists (a file where a folder is "
                "expected?)", errno.ENOENT: "no such file or directory", errno.ENAMETOOLONG: "name too long",
                errno.EFBIG: "file too large", errno.ENOTEMPTY: "directory not empty"}

_signal_received: list[int] = []


def _on_signal(signum: int, frame: Any) -> None:
    if signum in _signal_received:  # a second one: stop now, without cleanup
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    _signal_received.append(signum)
    raise KeyboardInterrupt


def _launched_by_torchrun() -> bool:
    """Workers of torchrun / accelerate: the launcher owns their signals (it stops a worker blocked in a
    collective with SIGTERM, which a Python handler could not act on)."""
    return "TORCHELASTIC_RUN_ID" in os.environ or "LOCAL_RANK" in os.environ


def _interrupted() -> None:
    """One line and 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM)."""
    signum = _signal_received[-1] if _signal_received else signal.SIGINT
    typer.echo(INTERRUPTED_MESSAGE, err=True)
    sys.exit(128 + int(signum))


def _user_error(message: str) -> None:
    logging.getLogger("luxembedder").debug("error", exc_info=True)  # the traceback with -v
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    sys.exit(EXIT_USER_ERROR)


def os_error_message(exc: OSError) -> str | None:
    """One line for an OS error the user can fix (path, permission, space), or None for other errors."""
    if exc.errno not in _USER_ERRNOS:
        return None
    where = exc.filename if exc.filename is not None else None
    text = _USER_ERRNOS[exc.errno]
    return f"{where}: {text}" if where else text


def main() -> None:
    """Console-script entry: user errors print one clear line and exit 2 (``-v`` adds the traceback);
    Ctrl-C / SIGTERM print one line and exit 130 / 143; a command's exit code is passed on."""
    _signal_received.clear()
    for sig in (signal.SIGINT, signal.SIGTERM) if not _launched_by_torchrun() else ():
        try:
            signal.signal(sig, _on_signal)
        except ValueError:  # not the main thread (embedded use): keep the defaults
            pass
    try:
        rv = app(standalone_mode=False)
    except LuxEmbedderError as exc:
        _user_error(str(exc))
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit:
        raise
    except OSError as exc:
        message = os_error_message(exc)
        if message is None:
            raise
        _user_error(message)
    except Exception as exc:  # click usage errors etc.
        usage, abort = _click_exception_types()
        if isinstance(exc, usage):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, abort):
            sys.exit(1)
        raise
    if _signal_received or rv == 130:  # typer turns KeyboardInterrupt into Exit(130), returned as the value
        _interrupted()
    sys.exit(rv if isinstance(rv, int) else EXIT_OK)


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
