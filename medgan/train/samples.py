"""Sample grids during training: the same fixed noise every time (seeded by the config), one row per
class when conditional, tiled 8 across into samples/step_NNNNNNN.png and samples/latest.png."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from medgan import workspace
from medgan.data.imageops import image_grid
from medgan.train.batches import to_uint8
from medgan.train.config import TrainConfig

GRID_COLUMNS = 8
NOISE_SEED_OFFSET = 7919


@torch.no_grad()
def fixed_samples(generator: nn.Module, config: TrainConfig, device: torch.device) -> np.ndarray:
    """uint8 images from fixed noise, drawn in eval mode (the training mode is put back after)."""
    rows = len(config.class_names) if config.n_classes else 4
    noise = torch.Generator().manual_seed(config.seed + NOISE_SEED_OFFSET)
    z = torch.randn(rows * GRID_COLUMNS, config.z_dim, generator=noise).to(device)
    labels = None
    if config.n_classes:
        labels = torch.arange(rows, device=device).repeat_interleave(GRID_COLUMNS)
    was_training = generator.training
    generator.eval()
    images = generator(z, labels)
    generator.train(was_training)
    return to_uint8(images)


def grid_path(run_dir: Path, step: int) -> Path:
    """Where the grid of ``step`` goes."""
    return Path(run_dir) / "samples" / f"step_{step:07d}.png"


def write_grid(images: np.ndarray, path: Path, stack: bool = False) -> None:
    """Tile ``images`` (a 2.5D ``stack``: their middle slices) into ``path`` and copy it to latest.png beside
    it (atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image_grid(images, GRID_COLUMNS, stack=stack).save(path)
    workspace.atomic_write_bytes(path.parent / "latest.png", path.read_bytes(), durable=False)
