"""The gallery page with the shipped demo generator: real vs synthetic per class, nearest training images,
zoom (the admin gate: tests/pages/test_owner_gate.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medgan.turing.access import PASSWORD_ENV

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "gallery.py")


@pytest.fixture
def gallery(demo_dataset, monkeypatch) -> AppTest:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["gallery_n"] = 3
    return at.run()


def test_real_and_synthetic_side_by_side_with_nearest_training_images(gallery):
    at = gallery
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == ["Class: mass", "Class: normal"]
    assert len(at.get("image")) == 2 * 3 * 3  # per class: 3 real, 3 synthetic, 3 nearest training images
    nearest = [c for c in at.get("image") if "d = " in str(c.proto)]
    assert len(nearest) == 6
    yardsticks = [c.value for c in at.caption if c.value.startswith("Yardstick")]
    assert len(yardsticks) == 2 and all("flagged" in y for y in yardsticks)


def test_same_seed_same_images_and_zoom(gallery):
    at = gallery
    before = [str(im.proto) for im in at.get("image")]
    at.button(key="gallery_mass_syn_0").click().run()
    assert not at.exception
    assert len(at.get("image")) == 2 * 3 * 3 + 1  # the enlarged copy in the dialog
    assert [str(im.proto) for im in at.get("image")][: len(before)] == before
