"""Tiny training configs shared by the training tests (32 px, a few steps, small networks)."""

from __future__ import annotations

from typing import Any

from medgan.train.config import TrainConfig


def tiny_config(**overrides: Any) -> TrainConfig:
    """A 32 px config on the demo dataset that trains in a fraction of a second per step on CPU."""
    values: dict[str, Any] = {
        "dataset": "demo-phantom",
        "arch": "dcgan",
        "resolution": 32,
        "batch_size": 8,
        "steps": 4,
        "width": 8,
        "z_dim": 16,
        "ema": False,
        "sample_every": 2,
        "checkpoint_every": 2,
        "log_every": 1,
        "device": "cpu",
    }
    values.update(overrides)
    return TrainConfig.from_dict(values)
