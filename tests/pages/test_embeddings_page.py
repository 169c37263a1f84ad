"""The Embeddings page: a t-SNE map of real and synthetic images, one point per image, cached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medgan.turing.access import PASSWORD_ENV
from tests.standins import PhantomStandIn

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "embeddings.py")


@pytest.fixture
def page(demo_dataset, monkeypatch) -> AppTest:
    from medgan.metrics import domain

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setattr(domain, "DEFAULT_STEPS", 20)
    monkeypatch.setattr(
        "medgan.generate.load_generator", lambda run_id: PhantomStandIn(checkpoint_sha256="3" * 64)
    )
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.session_state["embeddings_n"] = 12
    return at


def test_map_has_one_point_per_image_coloured_by_source_then_class(page, workspace_home, jobs_here):
    from medgan.jobs import store

    at = page.run()
    assert not at.exception and not at.error and not at.get("plotly_chart")  # nothing computed on opening
    assert "press Compute the map" in at.info[0].value
    at.button(key="embeddings_go").click().run()
    assert at.get("progress")[0].proto.text.startswith("queued") and not at.get("plotly_chart")
    (job,) = jobs_here()
    assert store.get_job(job).status == "done", store.get_job(job).error
    at = AppTest.from_file(PAGE, default_timeout=180)  # a reload finds the finished job's map
    at.session_state["embeddings_n"] = 12
    at.run()
    assert not at.exception and not at.error
    caption = at.caption[0].value
    assert caption.startswith(
        "t-SNE of 12 real and 12 synthetic images on features: domain-CNN (demo-phantom"
    )
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sorted(t["name"] for t in figure["data"]) == ["real", "synthetic"]
    assert sum(len(t["customdata"]) for t in figure["data"]) == 24  # x, y are typed arrays
    at.selectbox(key="embeddings_colour").set_value("label").run()
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sorted(t["name"] for t in figure["data"]) == ["mass", "normal"]
    # stored for next time
    assert len(list((workspace_home / "runs" / "demo" / "embeddings").glob("*.npz"))) == 1
