"""What every result file records: library versions, hardware, and data hashes."""

from __future__ import annotations

import datetime as _dt
import platform
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from luxembedder.utils.io import sha256_file

_PACKAGES = (
    "luxembedder", "torch", "transformers", "sentence-transformers", "tokenizers", "numpy",
    "scikit-learn", "faiss-cpu", "datasets",
)


@cache
def versions() -> dict[str, str]:
    """Installed versions of the libraries that influence numbers, plus Python and the platform."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@cache
def toolkit_commit() -> str | None:
    """The git commit of the luxembedder source tree when it is a git checkout (``+dirty`` with local
    changes); None for an installed wheel or without git."""
    import subprocess

    src = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no", "."],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if dirty else head or None


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def data_record(path: str | Path) -> dict[str, Any]:
    """``{path, sha256, bytes}`` for one data file."""

    p = Path(path)
    return {"path": str(p), "sha256": sha256_file(p), "bytes": p.stat().st_size}


@cache
def cpu_supports_bf16() -> bool:
    """True when this CPU has native bf16 matrix instructions (AVX512-BF16 or AMX-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags for f in ("avx512_bf16", "amx_bf16"))


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory_status_mb() -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon and RssFile of this process in MiB (Linux ``/proc/self/status``; empty elsewhere)."""
    status = Path("/proc/self/status")
    out: dict[str, float] = {}
    if not status.is_file():
        return out
    for line in status.read_text().splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(val.split()[0]) / 1024.0
    return out
