"""The app's first screen: navigation over the pages, the demo made on first start, links to every step."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from medgan.data.store import list_datasets

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_first_start_shows_home_with_demo_ready():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "MedGAN Studio"
    assert [d.name for d in list_datasets()] == ["demo-phantom"]
    assert at.metric[0].value == "1"
    links = [link.proto.page for link in at.get("page_link")]
    assert links == ["data", "train", "gallery", "turing", "evaluate", "embeddings", "classifier", "export"]
