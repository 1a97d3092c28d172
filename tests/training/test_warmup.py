"""The scheduler warms up for ``warmup_ratio`` of the optimizer steps (not ``warmup_ratio`` steps)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from transformers import TrainerCallback

from luxembedder.training import TrainConfig, train


class SchedulerProbe(TrainerCallback):
    """Keeps the learning-rate multiplier of every step the scheduler was built for."""

    def __init__(self) -> None:
        self.factors: list[float] = []

    def on_train_begin(self, args, state, control, lr_scheduler=None, **kwargs):
        self.factors = [lr_scheduler.lr_lambdas[0](k) for k in range(state.max_steps + 1)]


def warmup_steps(factors: list[float]) -> int:
    """Length of the linear warm-up: the multiplier is k / W for the steps k < W, then 1 (or the run ends)."""
    for w in range(len(factors)):
        ramp = all(math.isclose(factors[k], k / w) for k in range(w)) if w else True
        if ramp and (w == len(factors) - 1 or math.isclose(factors[w], 1.0)):
            return w
    raise AssertionError(f"no linear warm-up in {factors}")


@pytest.mark.parametrize(("ratio", "expected"), [(0.3, 3), (0.0, 0), (1.0, 10)])
def test_scheduler_warmup_steps_follow_the_ratio(tiny_model_dir: Path, fixtures_dir: Path, tmp_path: Path,
                                                 ratio: float, expected: int) -> None:
    cfg = TrainConfig.from_dict(dict(
        model=str(tiny_model_dir), output_dir=str(tmp_path / "model"),
        pairs=[{"path": str(fixtures_dir / "pairs" / "lb-en.jsonl")}],
        batch_size=4, lr=1e-3, warmup_ratio=ratio, max_steps=10, dev_size=0, seed=1, logging_steps=5, threads=1,
    ))
    probe = SchedulerProbe()
    train(cfg, callbacks=[probe])
    assert len(probe.factors) == 11
    assert warmup_steps(probe.factors) == expected
