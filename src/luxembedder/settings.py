"""Where data and models live, resolved in one place.

- data directory: ``--data-dir`` > ``$LUXEMBEDDER_DATA`` > ``../shared/data`` (when it exists, relative to
  the working directory, then to the repository checkout).
- models home: ``$LUXEMBEDDER_HOME`` > the user's cache directory (``platformdirs``) ``/luxembedder``.
- online: hub ids and downloads are allowed only when ``$LUXEMBEDDER_ONLINE=1`` or ``--online`` is given
  and ``HF_HUB_OFFLINE`` is not set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from luxembedder.errors import MissingDataError

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Resolved locations and switches shared by every command."""

    data_dir: Path | None
    models_home: Path
    online: bool

    def require_data_dir(self) -> Path:
        """The data directory, or a clear error telling how to set it."""
        if self.data_dir is None or not self.data_dir.is_dir():
            raise MissingDataError(
                "No data directory: pass --data-dir, set $LUXEMBEDDER_DATA, or place the shared data at "
                "../shared/data (see ../shared/data/README.md for the expected layout)."
            )
        return self.data_dir


def default_data_dir() -> Path | None:
    """``../shared/data`` beside the working directory or beside the checkout, if it exists."""
    for base in (Path.cwd(), _REPO_ROOT):
        candidate = (base / ".." / "shared" / "data").resolve()
        if candidate.is_dir():
            return candidate
    return None


def get_settings(data_dir: str | Path | None = None, online: bool | None = None) -> Settings:
    """Resolve settings from arguments, then the environment, then defaults."""
    if data_dir is not None:
        data = Path(data_dir).expanduser().resolve()
    elif os.environ.get("LUXEMBEDDER_DATA"):
        data = Path(os.environ["LUXEMBEDDER_DATA"]).expanduser().resolve()
    else:
        data = default_data_dir()
    home_env = os.environ.get("LUXEMBEDDER_HOME")
    home = Path(home_env).expanduser() if home_env else Path(platformdirs.user_cache_dir("luxembedder"))
    if online is None:
        online = _truthy(os.environ.get("LUXEMBEDDER_ONLINE"))
    if _truthy(os.environ.get("HF_HUB_OFFLINE")):
        online = False
    return Settings(data_dir=data, models_home=home.resolve(), online=online)
