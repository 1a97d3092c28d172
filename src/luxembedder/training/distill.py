"""Multilingual knowledge distillation (Reimers & Gurevych 2020) and per-source loss weights.

A frozen teacher embeds the high-resource side of each pair once (cached on disk, keyed by the teacher's name
and the text); the student learns ``student(lb) ≈ teacher(xx)`` and ``student(xx) ≈ teacher(xx)`` with
sentence-transformers' ``MSELoss``. Distillation sets train beside the contrastive ones in one run: one loss per
dataset, batches drawn by the multi-dataset sampler.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from luxembedder.models.cache import CachedEncoder
from luxembedder.models.encoder import Encoder
from luxembedder.models.registry import load_encoder
from luxembedder.settings import Settings

logger = logging.getLogger(__name__)


def load_teacher(ref: str, settings: Settings, cache_dir: Path | None = None) -> CachedEncoder:
    """The frozen teacher as a :class:`CachedEncoder` (default cache: ``<models home>/cache/teacher``)."""
    enc = load_encoder(ref, settings)
    return CachedEncoder(enc, cache_dir or settings.models_home / "cache" / "teacher")


def distillation_rows(first: list[str], second: list[str], teacher: Encoder, batch_size: int = 64
                      ) -> dict[str, list[Any]]:
    """Columns ``text`` and ``label`` for ``MSELoss``: each pair gives (lb, T(xx)) and (xx, T(xx)).

    >>> from luxembedder.models.adapters import CallableEncoder
    >>> import numpy as np
    >>> t = CallableEncoder(lambda texts: np.array([[len(x), 1.0] for x in texts], dtype=np.float32), name="len")
    >>> rows = distillation_rows(["Moien", "Äddi"], ["Hello", "Bye"], t)
    >>> rows["text"]
    ['Moien', 'Hello', 'Äddi', 'Bye']
    >>> rows["label"][0] == rows["label"][1] != rows["label"][2]   # lb and xx both learn T(xx)
    True
    """
    targets = np.asarray(teacher.encode(second, batch_size=batch_size), dtype=np.float32)
    texts: list[str] = []
    labels: list[Any] = []
    for a, b, t in zip(first, second, targets, strict=True):
        row = t.tolist()
        texts += [a, b]
        labels += [row, row]
    return {"text": texts, "label": labels}


class WeightedLoss(torch.nn.Module):
    """Multiplies a loss module's output by ``weight`` (a per-source loss weight in multi-dataset training).

    >>> class Unit(torch.nn.Module):
    ...     def forward(self, features, labels):
    ...         return torch.tensor(2.0)
    >>> float(WeightedLoss(Unit(), 0.5)(None, None))
    1.0
    """

    def __init__(self, inner: torch.nn.Module, weight: float) -> None:
        super().__init__()
        self.inner = inner
        self.weight = float(weight)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner(*args, **kwargs) * self.weight

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("inner"), name)
