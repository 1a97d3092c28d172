"""Matplotlib helpers shared by every report: a headless pyplot and an atomic PNG save."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from luxembedder.utils.io import atomic_write_bytes


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Write a figure as PNG atomically and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")  # keeps legends placed outside the axes
    pyplot().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def legend_outside(ax: Any, **kwargs: Any) -> Any:
    """A legend to the right of the axes, so it never covers bars or curves (``save_png`` keeps it in frame)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                     fontsize=8, frameon=False, **kwargs)
