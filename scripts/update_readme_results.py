"""Rewrite the README's results block from results files (never typed by hand).

Each entry of ``docs/results/index.yaml`` names a results file (``results.json`` written by
``luxembedder eval``, or by the recipe under ``<run>/eval/results.json``), a title and the command that
produced it. The table itself is ``luxembedder results table FILE --format md``.

Usage: python scripts/update_readme_results.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from luxembedder.evaluation.report import markdown_table
from luxembedder.evaluation.results import load_results

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:start -->", "<!-- results:end -->"


def render(index_path: Path) -> str:
    entries = yaml.safe_load(index_path.read_text()) or []
    blocks = []
    for e in entries:
        records = load_results(ROOT / e["results"])
        blocks.append(f"### {e['title']}\n\nProduced by `{e['command']}` (results file: `{e['results']}`)."
                      + (f" {e['note']}" if e.get("note") else "") + "\n\n" + markdown_table(records))
    return "\n".join(blocks)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=ROOT / "docs" / "results" / "index.yaml")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if the README is not up to date")
    args = ap.parse_args()
    text = args.readme.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    new = f"{head}{START}\n{render(args.index)}\n{END}{tail}"
    if args.check:
        return 0 if new == text else 1
    args.readme.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
