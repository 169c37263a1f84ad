"""Paired tests (medgan/classify/stats.py): McNemar against statsmodels, DeLong against its definition."""

import numpy as np
import pytest
from scipy.stats import binomtest, norm
from sklearn.metrics import roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar

from medgan.classify.stats import delong_paired, mcnemar_exact


def test_mcnemar_matches_statsmodels_and_the_binomial_test():
    rng = np.random.default_rng(0)
    a = rng.random(200) < 0.8
    b = np.where(rng.random(200) < 0.15, ~a, a)
    got = mcnemar_exact(a, b)
    n10, n01 = int((a & ~b).sum()), int((~a & b).sum())
    expected = mcnemar([[int((a & b).sum()), n10], [n01, int((~a & ~b).sum())]], exact=True)
    assert (got["only_a_correct"], got["only_b_correct"]) == (n10, n01)
    assert got["p_value"] == pytest.approx(expected.pvalue)
    assert got["statistic"] == expected.statistic
    assert got["p_value"] == pytest.approx(binomtest(n10, n10 + n01, 0.5).pvalue)
    assert mcnemar_exact(a, a)["p_value"] == 1.0


def _delong_reference(positive, a, b):
    """DeLong et al. (1988) with explicit pairwise kernels (O(n^2)), to check the fast algorithm."""

    def components(score):
        psi = (score[positive][:, None] > score[~positive][None, :]) + 0.5 * (
            score[positive][:, None] == score[~positive][None, :]
        )
        return psi.mean(), psi.mean(1), psi.mean(0)

    (auc_a, v10_a, v01_a), (auc_b, v10_b, v01_b) = components(a), components(b)
    s10, s01 = np.cov([v10_a, v10_b]), np.cov([v01_a, v01_b])
    cov = s10 / positive.sum() + s01 / (~positive).sum()
    z = (auc_a - auc_b) / np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    return auc_a, auc_b, 2 * norm.sf(abs(z))


def test_delong_matches_the_pairwise_definition_and_scikit_learn():
    rng = np.random.default_rng(3)
    positive = rng.random(150) < 0.4
    a = np.round(positive + rng.normal(0, 0.8, 150), 1)
    b = np.round(positive + rng.normal(0, 1.2, 150), 1)
    got = delong_paired(positive, a, b)
    auc_a, auc_b, p = _delong_reference(positive, a, b)
    assert got["auc_a"] == pytest.approx(roc_auc_score(positive, a)) == pytest.approx(auc_a)
    assert got["auc_b"] == pytest.approx(auc_b)
    assert got["p_value"] == pytest.approx(p)
    assert delong_paired(positive, a, a)["p_value"] == 1.0
    with pytest.raises(ValueError, match="positive and negative"):
        delong_paired(np.ones(5, bool), a[:5], b[:5])
