"""Pool out-of-fold test predictions per arm and turn them into metrics, intervals and paired tests."""

from __future__ import annotations

import numpy as np

from medgan.classify.config import CompareConfig
from medgan.classify.metrics import MACRO, bootstrap_intervals, confusion, point_metrics
from medgan.classify.stats import delong_paired, mcnemar_exact
from medgan.data.store import ImageSet

BASELINE = "real"
NEGATIVE_NAMES = {
    "normal",
    "benign",
    "healthy",
    "negative",
    "no",
    "no_tumor",
    "no-tumor",
    "no tumor",
    "control",
}


def positive_class(class_names: list[str], requested: str | None) -> str | None:
    """The class whose sensitivity a two-class table reports: ``requested``, else the one class whose name
    does not read as negative (normal, benign, no_tumor, ...), else the first; None with 3+ classes."""
    if requested is not None:
        if requested not in class_names:
            raise ValueError(f"positive class {requested!r} is not one of {class_names}")
        return requested
    if len(class_names) != 2:
        return None
    candidates = [c for c in class_names if c.lower() not in NEGATIVE_NAMES]
    return candidates[0] if len(candidates) == 1 else class_names[0]


def pooled_predictions(trainings: list[dict], size: str, arm: str) -> tuple[np.ndarray, np.ndarray]:
    """(dataset rows, probabilities) of one arm at one size over all folds, sorted by row."""
    chosen = [t for t in trainings if t["size"] == size and t["arm"] == arm]
    rows = np.concatenate([np.asarray(t["test_rows"], dtype=np.int64) for t in chosen])
    prob = np.concatenate([np.asarray(t["test_prob"], dtype=float) for t in chosen])
    order = np.argsort(rows)
    return rows[order], prob[order]


def _metric_rows(
    size: str,
    arm: str,
    y: np.ndarray,
    prob: np.ndarray,
    groups: np.ndarray,
    class_names: list[str],
    config: CompareConfig,
) -> list[dict]:
    point = point_metrics(y, prob, class_names)
    ci = bootstrap_intervals(y, prob, class_names, groups, config.n_bootstrap, config.seed)
    return [
        {
            "size": size,
            "arm": arm,
            "scope": scope,
            "metric": metric,
            "value": value,
            "ci_low": ci[(scope, metric)][0],
            "ci_high": ci[(scope, metric)][1],
            "n_test": len(y),
            "n_patients": len(np.unique(groups)),
        }
        for (scope, metric), value in point.items()
    ]


def _paired_rows(
    size: str,
    arm: str,
    baseline: str,
    y: np.ndarray,
    prob: np.ndarray,
    base_prob: np.ndarray,
    class_names: list[str],
) -> list[dict]:
    """McNemar on correctness, DeLong on AUC (macro for two classes, else per class), arm vs baseline."""
    rows = [{"scope": MACRO, **mcnemar_exact(base_prob.argmax(1) == y, prob.argmax(1) == y)}]
    classes = [0] if len(class_names) == 2 else range(len(class_names))
    for c in classes:
        if 0 < (y == c).sum() < len(y):
            scope = MACRO if len(class_names) == 2 else class_names[c]
            rows.append({"scope": scope, **delong_paired(y == c, base_prob[:, c], prob[:, c])})
    return [{"size": size, "arm_a": baseline, "arm_b": arm, **r} for r in rows]


def analyse(trainings: list[dict], data: ImageSet, config: CompareConfig) -> dict:
    """Metrics with 95% patient-level bootstrap intervals, confusion matrices and paired tests."""
    class_names = data.class_names
    sizes = list(dict.fromkeys(t["size"] for t in trainings))
    baseline = BASELINE if BASELINE in config.arms else config.arms[0]
    metrics, paired, confusions = [], [], {}
    for size in sizes:
        rows, base_prob = pooled_predictions(trainings, size, baseline)
        y, groups = data.label_ids[rows], data.patients[rows]
        for arm in config.arms:
            arm_rows, prob = pooled_predictions(trainings, size, arm)
            if not np.array_equal(arm_rows, rows):
                raise RuntimeError(f"arm {arm} was tested on other images than {baseline} (size {size})")
            metrics += _metric_rows(size, arm, y, prob, groups, class_names, config)
            confusions.setdefault(size, {})[arm] = confusion(y, prob.argmax(1), len(class_names)).tolist()
            if arm != baseline:
                paired += _paired_rows(size, arm, baseline, y, prob, base_prob, class_names)
    return {
        "class_names": class_names,
        "positive_class": positive_class(class_names, config.positive_class),
        "baseline": baseline,
        "sizes": sizes,
        "metrics": metrics,
        "confusion": confusions,
        "paired_tests": paired,
    }
