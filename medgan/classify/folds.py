"""Patient-level, label-stratified cross-validation folds with a validation part carved from training.

No patient's images are ever split between training, validation and test: test parts come from
:func:`medgan.data.splits.patient_folds`, and the validation part is a patient-level fold of the remaining
training patients. When a generator was trained on part of the dataset, only the images it never saw are
tested (the rest always train), so synthetic images cannot leak test patients into training.
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


def make_folds(
    labels: np.ndarray,
    patients: np.ndarray,
    n_folds: int,
    val_fraction: float,
    seed: int,
    test_pool: np.ndarray | None = None,
) -> list[Fold]:
    """``n_folds`` folds; each test part is used once, validation comes from the remaining patients.

    ``test_pool`` (a boolean mask) limits test parts to those rows, e.g. images a generator never saw; a
    patient with any row outside the pool is never tested. Rows outside the pool always train.
    """
    labels = np.asarray(labels).astype(str)
    patients = np.asarray(patients).astype(str)
    pool = np.ones(len(labels), bool) if test_pool is None else np.array(test_pool, bool)
    pool = pool & ~np.isin(patients, patients[~pool])
    candidates = np.flatnonzero(pool)
    n_patients = len(np.unique(patients[candidates]))
    if n_patients < 2 * n_folds:
        raise ValueError(f"{n_patients} patients eligible for testing are too few for {n_folds} folds")
    folds = []
    for index, local in enumerate(patient_folds(labels[candidates], patients[candidates], n_folds, seed)):
        test = candidates[local]
        rest = np.setdiff1d(np.arange(len(labels)), test)
        n_rest_patients = len(np.unique(patients[rest]))
        n_val_folds = int(min(max(round(1 / val_fraction), 2), n_rest_patients))
        val_local = patient_folds(labels[rest], patients[rest], n_val_folds, seed + 1 + index)[0]
        val = np.sort(rest[val_local])
        folds.append(Fold(index, np.setdiff1d(rest, val), val, np.sort(test)))
    return folds


def subsample_patients(
    rows: np.ndarray, labels: np.ndarray, patients: np.ndarray, n_images: int, seed: int
) -> np.ndarray:
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
