"""Images for the gallery: real training images and synthetic ones per class, and for every synthetic image
its nearest real training image (pixel space, RMS grey-level distance) to spot copies.

Copies are flagged by the memorization audit (``medgan.metrics.memorization.audit_space``): a synthetic image
closer to a training image than nearly all held-out real images (test/val) are, or an exact copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medgan.data.store import DatasetInfo, load_images
from medgan.metrics.memorization import audit_space
from medgan.turing.study import HELD_OUT_SPLITS, Generator, match_channels

MAX_HELD_OUT = 256  # held-out images measured per class for the copy threshold


@dataclass
class ClassGallery:
    """One class (``label`` None for an unlabelled run) of the gallery."""

    label: str | None
    real: np.ndarray  # (n, C, R, R) uint8 training images
    synthetic: np.ndarray  # (n, C, R, R) uint8
    nearest: np.ndarray  # (n, C, R, R) the nearest training image of each synthetic image
    nearest_rows: np.ndarray  # (n,) manifest rows of those training images
    distances: np.ndarray  # (n,) RMS grey-level distance (0-255)
    held_out_distances: np.ndarray  # nearest-training distances of held-out real images of this class
    copy_threshold: float  # 1st percentile of ``held_out_distances``
    copy_flags: np.ndarray  # (n,) bool: closer than the threshold, or an exact copy
    stack: bool = False  # the images are 2.5D stacks (shown as their middle slice), not RGB


def _rows(labels: np.ndarray, label: str | None) -> np.ndarray:
    return np.arange(len(labels)) if label is None else np.flatnonzero(labels == label)


def class_gallery(
    generator: Generator, dataset: DatasetInfo, label: str | None, n: int, seed: int
) -> ClassGallery:
    """``n`` real training and ``n`` synthetic images of ``label`` with nearest training neighbours.

    Raises ValueError when the dataset has no training or no held-out images (of that class).
    """
    train = load_images(dataset, resolution=generator.resolution, split="train")
    held = load_images(dataset, resolution=generator.resolution, split=list(HELD_OUT_SPLITS))
    rows, held_rows = _rows(train.labels, label), _rows(held.labels, label)[:MAX_HELD_OUT]
    of_class = f" of class {label!r}" if label else ""
    if not len(rows) or not len(held_rows):
        raise ValueError(
            f"dataset {dataset.name!r} needs training and held-out (test/val) images{of_class}: "
            f"has {len(rows)} and {len(held_rows)}"
        )
    train_images = match_channels(np.asarray(train.images), generator.channels, dataset.name)
    held_images = match_channels(np.asarray(held.images[held_rows]), generator.channels, dataset.name)
    rng = np.random.default_rng(seed)
    real = train_images[np.sort(rng.choice(rows, size=min(n, len(rows)), replace=False))]
    synthetic = np.asarray(generator.sample(n, label=label, seed=seed), dtype=np.uint8)
    audit = audit_space(synthetic, train_images, held_images, "pixel")
    index = np.asarray(audit["fake_nearest"], dtype=np.int64)
    flags = np.zeros(len(synthetic), bool)
    flags[[f["fake_index"] for f in audit["flagged"]]] = True
    return ClassGallery(
        label,
        real,
        synthetic,
        train_images[index],
        train.indices[index],
        np.asarray(audit["fake_distances"]),
        np.asarray(audit["heldout_distances"]),
        audit["threshold"],
        flags,
        dataset.stack,
    )
