"""The Evaluate page: run an evaluation, then quality and distribution tables (with baseline and extractor),
the FID-over-steps chart and the memorization audit with image pairs."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medgan.turing.access import PASSWORD_ENV
from tests.standins import PhantomStandIn

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "evaluate.py")


@pytest.fixture
def page(demo_dataset, monkeypatch) -> AppTest:
    from medgan.metrics import domain

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setattr(domain, "DEFAULT_STEPS", 20)
    monkeypatch.setattr("medgan.generate.load_generator", lambda run_id: PhantomStandIn())
    return AppTest.from_file(PAGE, default_timeout=180)


def test_before_and_after_an_evaluation(page):
    at = page.run()
    assert not at.exception and "No evaluation of this run yet" in at.info[0].value
    at.session_state["evaluate_n"] = 24
    at.button(key="evaluate_go").click().run()
    assert not at.exception and not at.error
    subheaders = [s.value for s in at.subheader]
    assert subheaders[0] == "Quality against the nearest training image"
    assert subheaders[1] == "Distribution · features: domain-CNN (demo-phantom, 64 px, supervised)"
    quality, distribution = (df.value for df in at.dataframe)
    assert quality["metric"].tolist() == ["PSNR", "SSIM", "MS-SSIM", "MS-GMSD", "MDSI", "HaarPSI"]
    assert (quality["n"] == 24).all() and "±" in quality["mean ± sd"].iloc[0]
    assert "held-out vs train (baseline)" in distribution.columns and (distribution["n_synthetic"] == 24).all()
    assert any("Pixel space" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 3  # FID over steps, two distance histograms
    assert len(at.get("image")) == 2 * 2 * 8  # closest pairs in two spaces, side by side


def test_admin_gate(demo_dataset, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert "admin password" in at.info[0].value and not at.dataframe
