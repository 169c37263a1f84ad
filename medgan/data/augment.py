"""Classic (non-generative) image augmentation: rotation, flips, crop/zoom, shear, brightness/contrast.

The transforms follow the spine X-ray study (PIL-style rotations, flips and brightness changes) and the
COVID-19 chest X-ray study (rotation, zoom, shear, flips), applied with ``torchvision.transforms.v2`` to
uint8 tensors. Every image gets its own random parameters; a seed makes the whole batch reproducible.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torchvision.transforms import v2


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the classic augmentations (0 or False switches one off)."""

    rotation_deg: float = 10.0
    shear_deg: float = 8.0
    crop_scale_min: float = 0.85  # random crop of this fraction of the area (or more), resized back (zoom)
    horizontal_flip: bool = True
    vertical_flip: bool = False
    brightness: float = 0.2
    contrast: float = 0.2

    def to_dict(self) -> dict:
        """JSON-ready copy."""
        return asdict(self)


def build_transform(size: int, config: AugmentConfig | None = None) -> v2.Compose:
    """The v2 pipeline for ``size`` x ``size`` uint8 images (C, H, W)."""
    config = config or AugmentConfig()
    steps: list[v2.Transform] = []
    if config.horizontal_flip:
        steps.append(v2.RandomHorizontalFlip())
    if config.vertical_flip:
        steps.append(v2.RandomVerticalFlip())
    if config.rotation_deg or config.shear_deg:
        steps.append(
            v2.RandomAffine(
                degrees=config.rotation_deg,
                shear=config.shear_deg,
                interpolation=v2.InterpolationMode.BILINEAR,
            )
        )
    if config.crop_scale_min < 1.0:
        steps.append(
            v2.RandomResizedCrop(size, scale=(config.crop_scale_min, 1.0), ratio=(0.9, 1.1), antialias=True)
        )
    if config.brightness or config.contrast:
        steps.append(v2.ColorJitter(brightness=config.brightness, contrast=config.contrast))
    return v2.Compose(steps)


def augment_batch(
    images: np.ndarray | torch.Tensor, seed: int, config: AugmentConfig | None = None
) -> torch.Tensor:
    """Augment a (N, C, H, W) uint8 batch, each image with its own random parameters.

    The same ``seed`` gives the same output; the global torch random state is left untouched.
    """
    batch = images if isinstance(images, torch.Tensor) else torch.tensor(np.asarray(images))
    if batch.dtype != torch.uint8 or batch.ndim != 4:
        raise ValueError(f"expected a (N, C, H, W) uint8 batch, got {batch.dtype} {tuple(batch.shape)}")
    if batch.shape[-1] != batch.shape[-2]:
        raise ValueError(f"expected square images, got {tuple(batch.shape[-2:])}")
    transform = build_transform(batch.shape[-1], config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.stack([transform(image) for image in batch])
