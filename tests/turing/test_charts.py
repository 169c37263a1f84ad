"""Result figures: bars per metric and rater with asymmetric 95% CI error bars, chance line at 50%."""

from __future__ import annotations

import numpy as np
import pytest

from medgan.turing import charts, stats


def _results() -> dict:
    truth = np.array([1, 1, 0, 0, 1, 0], bool)
    a = stats.detection_metrics(truth, np.array([1, 1, 0, 0, 0, 0], bool))
    pooled = stats.detection_metrics(np.r_[truth, truth], np.r_[truth, ~truth])
    return {
        "per_rater": [{"rater": "A", **a}],
        "pooled": pooled,
        "by_confidence": stats.accuracy_by_confidence([1, 5, 5], [False, True, True]),
    }


def test_rater_metrics_figure():
    res = _results()
    fig = charts.rater_metrics_figure(res)
    assert [t.name for t in fig.data] == ["accuracy", "sensitivity", "specificity"]
    accuracy = fig.data[0]
    assert list(accuracy.x) == ["A", "all raters"]
    a = res["per_rater"][0]["accuracy"]
    assert accuracy.y[0] == pytest.approx(5 / 6)
    assert accuracy.error_y.array[0] == pytest.approx(a["ci_high"] - a["value"])
    assert accuracy.error_y.arrayminus[0] == pytest.approx(a["value"] - a["ci_low"])
    assert fig.layout.shapes[0].y0 == 0.5  # chance line


def test_confidence_figure():
    fig = charts.confidence_figure(_results())
    assert list(fig.data[0].x) == ["1", "5"] and list(fig.data[0].y) == [0.0, 1.0]
