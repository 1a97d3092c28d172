"""Click/typer helpers for options the CLI documents: a list option that takes several values at once.

Click gives an option one value per occurrence (``nargs=-1`` is not allowed on options), so
``--articles a.jsonl b.jsonl`` would leave ``b.jsonl`` as an unexpected argument. :func:`multi_value_command`
makes a command class that rewrites the arguments before parsing: the values after such an option, up to
the next option, each get the option name (``--articles a --articles b``). Both spellings then parse the
same way, ``--help`` stays the usual one, and parsing alone (``make_context``) sees the final arguments.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand


def spread_values(args: list[str], names: tuple[str, ...]) -> list[str]:
    """``[--opt, a, b, --x, 1]`` -> ``[--opt, a, --opt, b, --x, 1]`` for the option ``names``."""
    out: list[str] = []
    current: str | None = None
    for i, arg in enumerate(args):
        if arg == "--":
            out += args[i:]
            break
        if arg in names or any(arg.startswith(n + "=") for n in names if n.startswith("--")):
            current = arg.split("=", 1)[0]
            out.append(arg)
            continue
        if arg.startswith("-") and arg != "-":
            current = None
            out.append(arg)
            continue
        if current is not None and out[-1] != current:
            out.append(current)  # a further value of the multi-value option
        out.append(arg)
    return out


def multi_value_command(*names: str) -> type[TyperCommand]:
    """A typer command class whose options ``names`` (e.g. ``"--articles", "-a"``) take several values."""

    class MultiValueCommand(TyperCommand):
        multi_value_names = names

        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            return super().parse_args(ctx, spread_values(list(args), self.multi_value_names))

    return MultiValueCommand
