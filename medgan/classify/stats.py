"""Paired tests between two arms evaluated on the same test images.

McNemar's exact test compares correct/incorrect decisions (statsmodels). DeLong's test compares two
correlated ROC AUCs (DeLong, DeLong & Clarke-Pearson, Biometrics 1988; fast algorithm of Sun & Xu,
IEEE Signal Processing Letters 2014).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata
from statsmodels.stats.contingency_tables import mcnemar


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """Exact McNemar test on paired correctness; b = only A right, c = only B right."""
    correct_a, correct_b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    table = [
        [int((correct_a & correct_b).sum()), int((correct_a & ~correct_b).sum())],
        [int((~correct_a & correct_b).sum()), int((~correct_a & ~correct_b).sum())],
    ]
    result = mcnemar(table, exact=True)
    return {
        "test": "McNemar exact",
        "only_a_correct": table[0][1],
        "only_b_correct": table[1][0],
        "statistic": float(result.statistic),
        "p_value": float(result.pvalue),
    }


def _placements(scores: np.ndarray, n_pos: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUCs and DeLong structural components (V10 over positives, V01 over negatives) per score row."""
    pos, neg = scores[:, :n_pos], scores[:, n_pos:]
    n_neg = neg.shape[1]
    all_ranks = np.apply_along_axis(rankdata, 1, scores)
    pos_ranks = np.apply_along_axis(rankdata, 1, pos)
    neg_ranks = np.apply_along_axis(rankdata, 1, neg)
    auc = (all_ranks[:, :n_pos].sum(1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    v10 = (all_ranks[:, :n_pos] - pos_ranks) / n_neg
    v01 = 1.0 - (all_ranks[:, n_pos:] - neg_ranks) / n_pos
    return auc, v10, v01


def delong_paired(positive: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> dict:
    """DeLong's test of AUC(A) = AUC(B) for two scores of the same cases; two-sided p-value."""
    positive = np.asarray(positive, bool)
    n_pos = int(positive.sum())
    if n_pos == 0 or n_pos == len(positive):
        raise ValueError("DeLong's test needs both positive and negative cases")
    order = np.concatenate([np.flatnonzero(positive), np.flatnonzero(~positive)])
    auc, v10, v01 = _placements(np.vstack([score_a, score_b])[:, order].astype(float), n_pos)
    cov = np.cov(v10) / n_pos + np.cov(v01) / (len(positive) - n_pos)
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    diff = auc[0] - auc[1]
    if var > 1e-15:
        z = diff / np.sqrt(var)
        p = float(2 * norm.sf(abs(z)))
    else:  # identical scores (or no spread): equal AUCs cannot be told apart
        z, p = 0.0, 1.0
    return {
        "test": "DeLong AUC",
        "auc_a": float(auc[0]),
        "auc_b": float(auc[1]),
        "statistic": float(z),
        "p_value": float(p),
    }
