"""The Embeddings page: a t-SNE map of real and synthetic images, one point per image, cached."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from medgan.data.phantom import phantom_image
from medgan.turing.access import PASSWORD_ENV

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "embeddings.py")


class StandIn:
    """What an embedding needs of a generator (the demo run's shape); draws phantom images."""

    run_id, step, resolution, dataset = "demo", 50, 64, "demo-phantom"
    class_names, checkpoint_sha256 = ["mass", "normal"], "3" * 64

    def sample(self, n, *, label=None, seed=0, batch_size=64):
        rng = np.random.default_rng(seed)
        return np.stack([phantom_image(rng, label == "mass", 64)[None] for _ in range(n)])


@pytest.fixture
def page(demo_dataset, monkeypatch) -> AppTest:
    from medgan.metrics import domain

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setattr(domain, "DEFAULT_STEPS", 20)
    monkeypatch.setattr("medgan.generate.load_generator", lambda run_id: StandIn())
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["embeddings_n"] = 12
    return at


def test_map_has_one_point_per_image_coloured_by_source_then_class(page, workspace_home):
    at = page.run()
    assert not at.exception and not at.error
    caption = at.caption[0].value
    assert caption.startswith("t-SNE of 12 real and 12 synthetic images on features: domain-CNN (demo-phantom")
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sorted(t["name"] for t in figure["data"]) == ["real", "synthetic"]
    assert sum(len(t["customdata"]) for t in figure["data"]) == 24  # x, y are typed arrays
    at.selectbox(key="embeddings_colour").set_value("label").run()
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sorted(t["name"] for t in figure["data"]) == ["mass", "normal"]
    assert len(list((workspace_home / "runs" / "demo" / "embeddings").glob("*.npz"))) == 1  # stored for next time


def test_admin_gate(demo_dataset, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert "admin password" in at.info[0].value and not at.get("plotly_chart")
