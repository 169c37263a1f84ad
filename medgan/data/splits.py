"""Patient-level, label-stratified train/val/test splits (no patient in two splits)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

SPLITS = ("train", "val", "test")


def patient_split(
    labels: np.ndarray,
    patients: np.ndarray,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> np.ndarray:
    """Assign each row to train/val/test so every patient lies in one split and classes stay balanced.

    Uses scikit-learn's ``StratifiedGroupKFold`` with enough folds to carve out the val and test fractions.
    Returns an array of split names, one per row.
    """
    labels = np.asarray(labels).astype(str)
    patients = np.asarray(patients).astype(str)
    out = np.full(len(labels), "train", dtype=object)
    n_groups = len(np.unique(patients))
    holdout = fractions[1] + fractions[2]
    if n_groups < 3 or holdout <= 0:
        return out
    n_folds = int(min(max(round(1.0 / min(fractions[1], fractions[2])), 2), n_groups))
    smallest_class = min(np.unique(labels, return_counts=True)[1])
    if smallest_class >= n_folds:
        cv = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        folds = [test for _, test in cv.split(np.zeros(len(labels)), labels, patients)]
    else:  # too few images in a class to stratify: patient-level only
        folds = [
            test
            for _, test in GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(
                np.zeros(len(labels)), labels, patients
            )
        ]
    n_val = max(1, round(fractions[1] * n_folds))
    n_test = max(1, round(fractions[2] * n_folds))
    for fold in folds[:n_test]:
        out[fold] = "test"
    for fold in folds[n_test : n_test + n_val]:
        out[fold] = "val"
    return out


def patient_folds(labels: np.ndarray, patients: np.ndarray, n_folds: int, seed: int = 0) -> list[np.ndarray]:
    """``n_folds`` patient-level, label-stratified folds: a list of row-index arrays (test part of each fold)."""
    cv = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    labels = np.asarray(labels).astype(str)
    return [test for _, test in cv.split(np.zeros(len(labels)), labels, np.asarray(patients).astype(str))]
