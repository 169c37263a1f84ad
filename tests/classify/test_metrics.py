"""Metrics (medgan/classify/metrics.py) against scikit-learn, and bootstrap intervals."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score, roc_auc_score

from medgan.classify.metrics import bootstrap_intervals, confusion, point_metrics


def _predictions(n_classes: int, n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes))
    logits[np.arange(n), y] += 1.2
    logits = np.round(logits, 1)  # ties in the scores, as real probabilities have
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    if n_classes == 2:  # as a model's output: column 0 is exactly 1 - column 1
        prob[:, 0] = 1 - prob[:, 1]
    return y, prob


@pytest.mark.parametrize("n_classes", [2, 3])
def test_metrics_match_scikit_learn(n_classes):
    y, prob = _predictions(n_classes)
    names = [f"c{i}" for i in range(n_classes)]
    pred = prob.argmax(1)
    got = point_metrics(y, prob, names)
    cm = confusion_matrix(y, pred, labels=range(n_classes))
    assert np.array_equal(confusion(y, pred, n_classes), cm)
    assert got[("macro", "accuracy")] == pytest.approx(accuracy_score(y, pred))
    sens = recall_score(y, pred, average=None)
    f1 = f1_score(y, pred, average=None)
    for c, name in enumerate(names):
        assert got[(name, "sensitivity")] == pytest.approx(sens[c])
        assert got[(name, "f1")] == pytest.approx(f1[c])
        negatives = y != c
        assert got[(name, "specificity")] == pytest.approx(np.mean(pred[negatives] != c))
        score = prob[:, c] if n_classes > 2 else (2 * c - 1) * prob[:, 1]  # binary: ranks of p(class 1)
        assert got[(name, "auc")] == pytest.approx(roc_auc_score(y == c, score))
    assert got[("macro", "sensitivity")] == pytest.approx(recall_score(y, pred, average="macro"))
    assert got[("macro", "f1")] == pytest.approx(f1_score(y, pred, average="macro"))
    sk_auc = roc_auc_score(y, prob[:, 1]) if n_classes == 2 else roc_auc_score(y, prob, multi_class="ovr")
    assert got[("macro", "auc")] == pytest.approx(sk_auc)


def test_class_never_predicted_counts_zero_like_scikit_learn():
    y = np.array([0, 0, 1, 1, 2, 2])
    prob = np.eye(3)[[0, 0, 1, 1, 0, 1]] * 0.8 + 0.2 / 3
    got = point_metrics(y, prob, ["a", "b", "c"])
    pred = prob.argmax(1)
    assert got[("c", "f1")] == 0.0 == f1_score(y, pred, average=None, zero_division=0)[2]
    assert got[("macro", "f1")] == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))


def test_bootstrap_intervals_contain_the_point_estimate_and_are_seeded():
    y, prob = _predictions(3, n=300, seed=1)
    patients = np.arange(300) // 2
    names = ["a", "b", "c"]
    point = point_metrics(y, prob, names)
    ci = bootstrap_intervals(y, prob, names, patients, n_boot=200, seed=5)
    assert set(ci) == set(point)
    for key, value in point.items():
        low, high = ci[key]
        assert low <= value <= high, key
        assert high - low < 0.25, key
    assert ci == bootstrap_intervals(y, prob, names, patients, n_boot=200, seed=5)
    assert ci != bootstrap_intervals(y, prob, names, patients, n_boot=200, seed=6)


def test_patient_level_bootstrap_is_wider_when_images_repeat_within_patients():
    # The same 100 cases each imaged 4 times: resampling images would pretend to 400 independent cases.
    y, prob = _predictions(2, n=100, seed=2)
    y4, prob4, patients = np.repeat(y, 4), np.repeat(prob, 4, axis=0), np.repeat(np.arange(100), 4)
    names = ["a", "b"]
    by_image = bootstrap_intervals(y4, prob4, names, None, n_boot=300, seed=0)[("macro", "auc")]
    by_patient = bootstrap_intervals(y4, prob4, names, patients, n_boot=300, seed=0)[("macro", "auc")]
    assert (by_patient[1] - by_patient[0]) > 1.5 * (by_image[1] - by_image[0])
