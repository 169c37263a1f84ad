"""The four arms and how each one's training data is put together for a fold.

As in the chest X-ray and spine studies, classic augmentation enlarges the training set with augmented
copies of real training images, and the synthetic arms enlarge it with generated images: N images per
class each, so "real + classic" and "real + synthetic" train on sets of the same size and class mix.
Extra images are added to the training part only: validation and test images are always real rows of
the dataset, so every arm is judged on exactly the same real test images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medgan.data.augment import AugmentConfig, augment_batch

REAL, CLASSIC, SYNTHETIC = "real", "classic", "synthetic"


@dataclass(frozen=True)
class Arm:
    """One way to build the training set: classic augmentation on or off, synthetic images in or out."""

    name: str
    classic: bool
    synthetic: bool
    description: str


ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        Arm("real", False, False, "real images only"),
        Arm("real+classic", True, False, "real images plus N augmented copies per class"),
        Arm("real+synthetic", False, True, "real images plus N synthetic images per class"),
        Arm(
            "real+classic+synthetic",
            True,
            True,
            "real images plus N augmented copies and N synthetic images per class",
        ),
    )
}


@dataclass
class TrainingSet:
    """The training images of one arm in one fold, with the origin of every image."""

    images: np.ndarray  # (M, C, R, R) uint8
    labels: np.ndarray  # (M,) int class ids
    origin: np.ndarray  # (M,) "real" | "classic" | "synthetic"
    rows: np.ndarray  # (M,) dataset row of a real image or of an augmented copy's original; -1 if synthetic


def classic_copies(
    train_rows: np.ndarray,
    images: np.ndarray,
    label_ids: np.ndarray,
    per_class: int,
    seed: int,
    config: AugmentConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``per_class`` augmented copies per class of real training images: (images, label ids, source rows).

    Originals are drawn from ``train_rows`` only (without replacement while there are enough), seeded.
    """
    rng = np.random.default_rng(seed)
    classes = np.unique(label_ids[train_rows])
    sources = np.concatenate(
        [
            rng.choice(pool, per_class, replace=per_class > len(pool))
            for pool in (train_rows[label_ids[train_rows] == c] for c in classes)
        ]
    )
    copies = augment_batch(np.asarray(images[sources]), seed=int(rng.integers(2**31)), config=config).numpy()
    return copies, label_ids[sources], sources


def training_set(
    arm: Arm,
    train_rows: np.ndarray,
    images: np.ndarray,
    label_ids: np.ndarray,
    extra: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> TrainingSet:
    """Real training rows plus the arm's extra images.

    ``extra`` maps "classic" / "synthetic" to (images, label ids, source rows); an arm takes the kinds it
    uses and fails when one is missing.
    """
    parts = [(np.asarray(images[train_rows]), label_ids[train_rows], REAL, np.asarray(train_rows))]
    for kind, wanted in ((CLASSIC, arm.classic), (SYNTHETIC, arm.synthetic)):
        if not wanted:
            continue
        if kind not in extra or not len(extra[kind][0]):
            raise ValueError(f"arm {arm.name!r} needs {kind} images, but none were made")
        parts.append((extra[kind][0], extra[kind][1], kind, extra[kind][2]))
    return TrainingSet(
        images=np.concatenate([p[0] for p in parts]),
        labels=np.concatenate([p[1] for p in parts]).astype(np.int64),
        origin=np.concatenate([np.full(len(p[0]), p[2]) for p in parts]),
        rows=np.concatenate([p[3] for p in parts]).astype(np.int64),
    )
