"""Every ``luxembedder ...`` command line in README.md and docs/*.md parses with the real CLI.

Lines are taken from fenced code blocks (with ``\\`` continuations joined, ``# comments`` dropped) and
from inline code spans; spans that show usage syntax (``...``, ``[RUN ...]``, ``<subcommand>``) are not
command lines. Each is parsed with click's ``make_context`` down to the subcommand, without running it,
so a documented option the CLI does not accept (or a required one the docs leave out) fails here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from luxembedder.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def documented_commands() -> list[tuple[str, str]]:
    """``(file:line, command)`` for every luxembedder command line in the docs."""
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        in_code = False
        i = 0
        while i < len(lines):
            line = lines[i]
            where = f"{doc.name}:{i + 1}"
            if line.lstrip().startswith("```"):
                in_code = not in_code
                i += 1
                continue
            if in_code:
                text = line.strip().removeprefix("$ ")
                if text.startswith("luxembedder ") or text == "luxembedder":
                    while text.endswith("\\") and i + 1 < len(lines):
                        i += 1
                        text = text[:-1] + " " + lines[i].strip()
                    found.append((where, text))
            else:
                for span in re.findall(r"`(luxembedder(?: [^`]*)?)`", line):
                    if "..." in span or "[" in span or "<" in span:
                        continue  # usage syntax, not a command line
                    found.append((where, span))
            i += 1
    return found


def parse(argv: list[str]) -> None:
    """Parse ``luxembedder ARGV`` down to the leaf command without invoking anything. A bare command name
    without options (prose naming a subcommand, e.g. `luxembedder mine`) is only looked up."""
    cmd = typer.main.get_command(app)
    if not any(a.startswith("-") for a in argv) and len(argv) <= 2:
        for name in argv:
            assert hasattr(cmd, "get_command"), f"{name}: not a command group"
            sub = cmd.get_command(None, name)  # type: ignore[arg-type]
            assert sub is not None, f"no such command: {name}"
            cmd = sub
        return
    ctx = cmd.make_context("luxembedder", list(argv), resilient_parsing=False)
    while hasattr(cmd, "resolve_command"):
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            return
        name, cmd, rest = cmd.resolve_command(ctx, rest)
        ctx = cmd.make_context(name, rest, parent=ctx, resilient_parsing=False)


COMMANDS = documented_commands()


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) > 20
    assert any("--articles" in c and len(re.findall(r"\.jsonl", c)) > 1 for _, c in COMMANDS)


@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_command_parses(where: str, command: str) -> None:
    argv = shlex.split(command, comments=True)[1:]
    try:
        parse(argv)
    except Exception as exc:
        if type(exc).__name__ == "Exit" and getattr(exc, "exit_code", 0) == 0:  # --help / --version
            return
        pytest.fail(f"{where}: `{command}` does not parse: {type(exc).__name__}: {exc}")


def test_parse_rejects_what_the_cli_rejects() -> None:
    with pytest.raises(Exception, match="No such option"):
        parse(["mine", "--articles", "a.jsonl", "--out", "o", "--no-such-flag"])
    with pytest.raises(Exception, match="Missing"):
        parse(["mine", "--articles", "a.jsonl"])
    parse(["mine", "--articles", "a.jsonl", "b.jsonl", "c.jsonl", "--out", "o"])
    parse(["mine", "-a", "a.jsonl", "--articles", "b.jsonl", "--out", "o", "--lenient"])
