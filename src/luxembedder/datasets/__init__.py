"""Data sets: article input loading, the NTREX comparable-news benchmark, the bundled sample data."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from luxembedder.errors import MissingDataError


def sample_dir() -> Path:
    """Folder of the bundled sample (``articles.jsonl``, ``gold.jsonl``, ``eval/``), shipped with the package.

    Original news-style text written for the project, for fresh machines without the shared data.
    """
    root = resources.files("luxembedder") / "resources" / "sample"
    path = Path(str(root))
    if not path.is_dir():
        raise MissingDataError(f"bundled sample data not found at {path} (broken installation?)")
    return path
