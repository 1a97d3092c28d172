"""State shared by subcommands (resolved settings), the fixed choices of the options, help examples and small
output helpers."""

from __future__ import annotations

from enum import Enum
from typing import Any, get_args

import typer
from rich.console import Console
from rich.table import Table

from luxembedder.mining.config import MiningConfig
from luxembedder.models.backends import BACKENDS
from luxembedder.settings import Settings, get_settings
from luxembedder.training.config import LossName

console = Console(stderr=False)

# Exit codes (README "Command line", `luxembedder --help`)
EXIT_OK = 0
EXIT_USER_ERROR = 2  # bad input, bad option, unreadable or unwritable path, disk full
EXIT_EMPTY = 3  # the run finished but produced nothing (see --allow-empty)


def _choices(name: str, values: tuple[str, ...] | Any) -> type[Enum]:
    """A ``str`` enum whose values are ``values`` (typer shows them as ``<a|b|c>`` and rejects others)."""
    vals = tuple(get_args(values)) if get_args(values) else tuple(values)
    return Enum(name, {v: v for v in vals}, type=str)  # type: ignore[return-value]


def _literal(model: Any, *path: str) -> Any:
    """The ``Literal`` annotation of a (nested) pydantic config field: one source for the allowed values."""
    field = None
    for part in path:
        field = model.model_fields[part]
        model = field.annotation
    return field.annotation if field is not None else None


def _mining_choices() -> tuple[type[Enum], type[Enum], type[Enum]]:
    return (_choices("Preset", ("parity", "improved")),
            _choices("Scoring", _literal(MiningConfig, "scoring", "method")),
            _choices("Columns", _literal(MiningConfig, "input", "column_preset")))


Preset, Scoring, Columns = _mining_choices()
Backend = _choices("Backend", BACKENDS)
Engine = _choices("Engine", ("local", "ray"))
BACKEND_HELP = "torch, torch-bf16 (native bf16 only, else fp32 with a warning), onnx or onnx-int8 (ONNX Runtime)."


def _loss_choices() -> type[Enum]:
    return _choices("Loss", LossName)


Loss = _loss_choices()
TableFormat = _choices("TableFormat", ("rich", "md", "csv", "json", "latex"))
CompareFormat = _choices("CompareFormat", ("md", "json"))
Layers = _choices("Layers", ("all", "final"))


def value(choice: Any) -> Any:
    """The plain value of an enum choice (``None`` stays ``None``)."""
    return choice.value if isinstance(choice, Enum) else choice


def examples(*lines: str) -> str:
    """An epilog with one or more example command lines for ``--help``."""
    body = "\n\n".join(f"  $ {line}" for line in lines)
    return f"Example{'s' if len(lines) > 1 else ''}:\n\n{body}"


def _no_metavar_on_flags() -> None:
    """Flags (``--force``) and counters (``-v``) take no value: show no ``<bool>`` / ``<int>`` type in help."""
    try:
        from typer.core import TyperOption
    except ImportError:  # pragma: no cover - older typer without rich type column
        return
    original = getattr(TyperOption, "display_type_rich", None)
    if original is None or getattr(original, "_luxembedder", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if self.metavar is None and (self.is_flag or getattr(self, "count", False)):
            return None
        return original(self, ctx)

    display_type_rich._luxembedder = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_metavar_on_flags()


def settings_from(ctx: typer.Context) -> Settings:
    """The settings resolved by the top-level callback (or defaults when called directly)."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    return obj.get("settings") or get_settings()


def print_table(rows: list[dict[str, Any]], title: str | None = None, columns: list[str] | None = None) -> None:
    """Render dict rows as a rich table on stdout (floats with 4 decimals unless already formatted)."""
    if not rows:
        console.print("(no rows)")
        return
    cols = columns or list(rows[0])
    table = Table(title=title)
    for c in cols:
        table.add_column(str(c))
    for r in rows:
        table.add_row(*("" if r.get(c) is None else (f"{r[c]:.4f}" if isinstance(r[c], float) else str(r[c]))
                        for c in cols))
    console.print(table)
