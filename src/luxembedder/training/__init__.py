"""Contrastive fine-tuning of sentence embedders on translation pairs (sentence-transformers Trainer)."""

from luxembedder.training.config import HardNegativeConfig, PairSource, TrainConfig
from luxembedder.training.trainer import TrainResult, train

__all__ = ["HardNegativeConfig", "PairSource", "TrainConfig", "TrainResult", "train"]
