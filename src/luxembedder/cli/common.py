"""State shared by subcommands (resolved settings) and small output helpers."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from luxembedder.settings import Settings, get_settings

console = Console(stderr=False)


def settings_from(ctx: typer.Context) -> Settings:
    """The settings resolved by the top-level callback (or defaults when called directly)."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    return obj.get("settings") or get_settings()


def print_table(rows: list[dict[str, Any]], title: str | None = None, columns: list[str] | None = None) -> None:
    """Render dict rows as a rich table on stdout."""
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
