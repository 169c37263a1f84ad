"""Chart layout: legends under the plot (never over the x-axis title), confusion-matrix labels that fit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medgan.chartstyle import LEGEND_BELOW, short_label
from medgan.classify.figures import confusion_figure
from medgan.comparison import curves_figure
from medgan.metrics.figures import fid_curve
from medgan.train.monitor import loss_figure


def _metrics() -> pd.DataFrame:
    rows = [
        {"step": s, "loss_d": 1.0, "loss_g": 2.0, "part": p}
        for p in ("benign", "malignant")
        for s in (10, 20)
    ]
    rows += [
        {
            "step": 20,
            "fid": 50.0 + i,
            "kid": 0.1,
            "kid_std": 0.01,
            "fid_floor": 10.0 + i,
            "track_n_floor": 64,
            "track_n_reference": 64,
            "extractor": "domain",
            "track_n": 64,
            "part": p,
        }
        for i, p in enumerate(("benign", "malignant"))
    ]
    return pd.DataFrame(rows)


def test_legends_sit_under_the_plot():
    metrics = _metrics()
    for fig in (loss_figure(metrics), fid_curve(metrics), curves_figure({"run-a": metrics}, "loss_d")):
        legend = fig.layout.legend
        assert (legend.orientation, legend.yref, legend.y, legend.yanchor) == ("h", "container", 0, "bottom")
    floors = [a.y for a in fid_curve(metrics).layout.annotations]
    positions = {(a.xanchor, a.yanchor) for a in fid_curve(metrics).layout.annotations}
    assert len(floors) == 2 and len(positions) == 2  # two parts' floor labels at different places
    assert LEGEND_BELOW["yref"] == "container"


def test_confusion_labels_are_short_shared_and_slanted_when_long():
    names = ["glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor"]
    arms = ["real", "real+classic+synthetic"]
    result = {
        "config": {"arms": arms},
        "class_names": names,
        "confusion": {"all": {a: np.eye(4, dtype=int).tolist() for a in arms}},
    }
    fig = confusion_figure(result, "all")
    assert list(fig.layout.xaxis.ticktext) == ["glioma_tumor", "meningioma_tu…", "no_tumor", "pituitary_tum…"]
    assert fig.layout.xaxis.tickangle == -30 and fig.layout.yaxis2.matches == "y"  # one shared y axis
    assert [t.hovertemplate.split("<br>")[0] for t in fig.data] == arms  # full names on hover
    short = confusion_figure({**result, "class_names": ["a", "b", "c", "d"]}, "all")
    assert short.layout.xaxis.tickangle == 0 and short_label("benign") == "benign"
