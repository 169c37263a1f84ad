"""Classification metrics per class (one-vs-rest) and macro, with patient-level bootstrap intervals.

Accuracy, sensitivity (recall), specificity, F1 and ROC AUC are computed from the confusion matrix and
ranks with NumPy, so a 1000-replicate bootstrap takes a moment; the tests check every value against
scikit-learn on fixed predictions.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

METRICS = ("accuracy", "sensitivity", "specificity", "f1", "auc")
MACRO = "macro"


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(K, K) counts: rows are true classes, columns predicted classes."""
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


def auc_one_vs_rest(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC (Mann-Whitney, ties counted half); NaN when only one class is present."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _auc_per_class(y_true: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """One-vs-rest AUC per class; with two classes both equal the AUC of class 1 (as scikit-learn reports)."""
    if prob.shape[1] == 2:
        return np.full(2, auc_one_vs_rest(y_true == 1, prob[:, 1]))
    return np.array([auc_one_vs_rest(y_true == c, prob[:, c]) for c in range(prob.shape[1])])


def point_metrics(
    y_true: np.ndarray, prob: np.ndarray, class_names: list[str]
) -> dict[tuple[str, str], float]:
    """``{(scope, metric): value}`` for scope = each class name and "macro"; accuracy is overall.

    Per class (one-vs-rest): sensitivity = recall, specificity = TN / (TN + FP), F1, AUC of that class's
    probability. Macro = unweighted mean over classes (as scikit-learn's ``average="macro"``); a class
    without positives counts 0 for sensitivity and F1 (scikit-learn's zero_division=0) and is left out of
    the macro AUC.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    k = len(class_names)
    cm = confusion(y_true, prob.argmax(1), k)
    tp = np.diag(cm).astype(float)
    fn, fp = cm.sum(1) - tp, cm.sum(0) - tp
    tn = cm.sum() - tp - fn - fp
    values = {
        "sensitivity": _ratio(tp, tp + fn),
        "specificity": _ratio(tn, tn + fp),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "auc": _auc_per_class(y_true, prob),
    }
    out: dict[tuple[str, str], float] = {(MACRO, "accuracy"): float(tp.sum() / max(cm.sum(), 1))}
    for metric, per_class in values.items():
        for name, value in zip(class_names, per_class, strict=True):
            out[(name, metric)] = float(value)
        finite = per_class[~np.isnan(per_class)]
        out[(MACRO, metric)] = float(finite.mean()) if len(finite) else float("nan")
    return out


def _resample_patients(strata: list[list[np.ndarray]], rng: np.random.Generator) -> np.ndarray:
    """Row indices of one bootstrap replicate: patients drawn with replacement within their class."""
    rows = []
    for members in strata:
        picked = rng.integers(0, len(members), len(members))
        rows.extend(members[i] for i in picked)
    return np.concatenate(rows)


def _strata(y_true: np.ndarray, groups: np.ndarray) -> list[list[np.ndarray]]:
    """Patients grouped by their (first) label: a list per class of row-index arrays, one per patient."""
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    by_patient = [np.flatnonzero(inverse == g) for g in range(len(first))]
    patient_label = y_true[first]
    return [[by_patient[g] for g in np.flatnonzero(patient_label == c)] for c in np.unique(patient_label)]


def bootstrap_intervals(
    y_true: np.ndarray,
    prob: np.ndarray,
    class_names: list[str],
    groups: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[tuple[str, str], tuple]:
    """Percentile bootstrap interval of every :func:`point_metrics` value.

    Resamples patients (``groups``; each row its own patient when None) with replacement, stratified by
    class, so images of one patient stay together and every replicate keeps the class mix. Seeded.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    groups = np.arange(len(y_true)) if groups is None else np.asarray(groups).astype(str)
    rng = np.random.default_rng(seed)
    strata = _strata(y_true, groups)
    replicates: dict[tuple[str, str], list[float]] = {}
    for _ in range(n_boot):
        rows = _resample_patients(strata, rng)
        for key, value in point_metrics(y_true[rows], prob[rows], class_names).items():
            replicates.setdefault(key, []).append(value)
    tail = (1 - level) / 2 * 100
    return {
        key: tuple(float(v) for v in np.nanpercentile(vals, [tail, 100 - tail]))
        for key, vals in replicates.items()
    }
