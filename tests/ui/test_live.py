"""The live view shared by every session on one run: bounded curves, re-read only when the run's files change."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io
import plotly.tools
import pytest

from medgan import runs
from medgan.train.config import save_config
from medgan.train.monitor import TAIL_ROWS
from medgan.ui import live
from tests.train.helpers import tiny_config

RUN = "20260101-000000-dcgan-abcdef"


def _rows(steps: range) -> str:
    return "".join(
        json.dumps({"step": s, "time": s * 0.5, "images_per_sec": 64.0, "loss_d": 1.0 + s, "loss_g": 2.0})
        + "\n"
        for s in steps
    )


@pytest.fixture
def run_folder():
    folder = runs.run_dir(RUN)
    folder.mkdir(parents=True)
    save_config(tiny_config(steps=5000), folder)
    runs.write_status(folder, "running", 2000, 5000)
    (folder / "metrics.jsonl").write_text(_rows(range(1, 2001)))
    live.forget()
    yield folder
    live.forget()


def test_thin_bounds_loss_rows_and_keeps_every_fid_row():
    steps = np.arange(1, 1001)
    metrics = pd.DataFrame({"step": steps, "loss_d": steps * 1.0, "part": ""})
    fid = pd.DataFrame({"step": [500, 1000], "fid": [30.0, 20.0], "part": ""})
    thinned = live.thin(pd.concat([metrics, fid], ignore_index=True), max_points=100)
    losses = thinned[thinned["fid"].isna()]
    assert len(losses) == 100 and losses["step"].iloc[[0, -1]].tolist() == [1, 1000]
    assert thinned["fid"].dropna().tolist() == [30.0, 20.0]
    assert len(live.thin(metrics, max_points=2000)) == 1000  # short runs untouched


def test_live_run_is_shared_and_follows_appended_rows(run_folder, monkeypatch):
    first = live.live_run(RUN)
    assert len(first.metrics) <= 2 * live.MAX_POINTS + TAIL_ROWS and first.state.step == 2000  # thinned
    assert all(len(trace.x) <= live.MAX_POINTS for trace in first.loss.data)
    assert live.live_run(RUN) is first  # a second session within FRESH_SECONDS gets the same view
    monkeypatch.setattr(live, "FRESH_SECONDS", 0.0)
    assert live.live_run(RUN).loss is first.loss  # files unchanged: figures reused, not rebuilt
    with open(run_folder / "metrics.jsonl", "a") as fh:
        fh.write(_rows(range(2001, 2011)))
    runs.write_status(run_folder, "running", 2010, 5000)
    later = live.live_run(RUN)
    assert (
        later.metrics["step"].iloc[-1] == 2010 and later.state.step == 2010 and later.loss is not first.loss
    )
    assert later.state.elapsed_seconds == 1005.0  # every row's time, not only the kept rows'
    assert later.loss.data[0].x[-1] == 2010  # the newest step is drawn
    assert later.sample is None


def test_shared_figure_draws_like_the_figure_it_wraps(run_folder):
    figure = live.live_run(RUN).loss
    plain = go.Figure(figure)
    assert isinstance(figure, live.SharedFigure)
    assert figure.to_dict() is figure.to_dict()  # made once, not deep-copied per session
    as_sent = plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True)  # st.plotly_chart
    assert plotly.io.to_json(as_sent) == plotly.io.to_json(plain.to_dict())
