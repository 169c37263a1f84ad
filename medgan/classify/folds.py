"""Patient-level, label-stratified cross-validation folds with a validation part carved from training.

No patient's images are ever split between training, validation and test: test parts come from
:func:`medgan.data.splits.patient_folds`, and the validation part is a patient-level fold of the remaining
training patients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medgan.data.splits import patient_folds


@dataclass(frozen=True)
class Fold:
    """Row indices of one cross-validation fold."""

    index: int
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def make_folds(labels: np.ndarray, patients: np.ndarray, n_folds: int, val_fraction: float, seed: int) -> list[Fold]:
    """``n_folds`` folds over all rows; each test part is used once, validation comes from training patients."""
    labels = np.asarray(labels).astype(str)
    patients = np.asarray(patients).astype(str)
    n_patients = len(np.unique(patients))
    if n_patients < 2 * n_folds:
        raise ValueError(f"{n_patients} patients are too few for {n_folds} folds with a validation part")
    folds = []
    for index, test in enumerate(patient_folds(labels, patients, n_folds, seed)):
        rest = np.setdiff1d(np.arange(len(labels)), test)
        n_rest_patients = len(np.unique(patients[rest]))
        n_val_folds = int(min(max(round(1 / val_fraction), 2), n_rest_patients))
        val_local = patient_folds(labels[rest], patients[rest], n_val_folds, seed + 1 + index)[0]
        val = np.sort(rest[val_local])
        folds.append(Fold(index, np.setdiff1d(rest, val), val, np.sort(test)))
    return folds


def subsample_patients(rows: np.ndarray, labels: np.ndarray, patients: np.ndarray, n_images: int,
                       seed: int) -> np.ndarray:
    """About ``n_images`` of ``rows``, taken as whole patients, keeping the class mix (sizes sweep).

    Patients are shuffled with ``seed`` and added per class until that class's share is reached.
    """
    rows = np.asarray(rows)
    if n_images >= len(rows):
        return rows
    rng = np.random.default_rng(seed)
    row_labels = np.asarray(labels).astype(str)[rows]
    row_patients = np.asarray(patients).astype(str)[rows]
    chosen: list[np.ndarray] = []
    for label in np.unique(row_labels):
        in_class = row_labels == label
        target = max(1, round(n_images * in_class.mean()))
        class_patients = np.unique(row_patients[in_class])
        taken = 0
        for patient in rng.permutation(class_patients):
            if taken >= target:
                break
            mine = rows[(row_patients == patient) & in_class]
            chosen.append(mine)
            taken += len(mine)
    return np.sort(np.concatenate(chosen))
