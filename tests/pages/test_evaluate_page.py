"""The Evaluate page: run an evaluation, then quality and distribution tables (with baseline and extractor),
the FID-over-steps chart and the memorization audit with image pairs."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medgan.turing.access import PASSWORD_ENV
from tests.standins import PhantomStandIn

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "evaluate.py")


@pytest.fixture
def page(demo_dataset, monkeypatch) -> AppTest:
    from medgan.metrics import domain

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setattr(domain, "DEFAULT_STEPS", 20)
    monkeypatch.setattr("medgan.generate.load_generator", lambda run_id: PhantomStandIn())
    return AppTest.from_file(PAGE, default_timeout=180)


def test_an_evaluation_runs_as_a_job_and_its_result_shows_after_a_reload(page, jobs_here):
    from medgan.jobs import store

    at = page.run()
    assert not at.exception and "No evaluation of this run yet" in at.info[0].value
    at.session_state["evaluate_n"] = 24
    at.button(key="evaluate_go").click().run()
    assert not at.exception and not at.error and not at.dataframe  # nothing computed in the page
    (job,) = store.list_jobs(kind="evaluate")
    assert job.params == {"run_id": "demo", "n": 24, "features": "domain", "seed": 0}
    assert at.get("progress")[0].proto.text.startswith("queued")
    assert at.run().button(key="evaluate_go").disabled  # no second evaluation while one is queued
    assert jobs_here() == [job.id] and store.get_job(job.id).status == "done", store.get_job(job.id).error
    at = AppTest.from_file(PAGE, default_timeout=180).run()  # a reload: a new session finds the result
    assert not at.exception and not at.error
    subheaders = [s.value for s in at.subheader]
    assert subheaders[0] == "Quality against the nearest training image"
    assert subheaders[1] == "Distribution · features: domain-CNN (demo-phantom, 64 px, supervised)"
    quality, distribution, per_class, agreement = (df.value for df in at.dataframe)
    assert quality["metric"].tolist() == ["PSNR", "SSIM", "MS-SSIM", "MS-GMSD", "MDSI", "HaarPSI"]
    assert (quality["n"] == 24).all() and "±" in quality["mean ± sd"].iloc[0]
    assert (
        "held-out vs train (baseline)" in distribution.columns and (distribution["n_synthetic"] == 24).all()
    )
    assert sorted(set(per_class["class"])) == ["mass", "normal"] and set(per_class["metric"]) == {
        "FID",
        "KID",
    }
    assert any("class proportions (mass 12, normal 12)" in c.value for c in at.caption)
    assert agreement["class"].tolist() == ["mass", "normal"] and (agreement["n_synthetic"] == 12).all()
    assert all(" % (" in cell for cell in agreement["synthetic"]) and (agreement["n_heldout"] == 144).all()
    assert any("Pixel space" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 3  # FID over steps, two distance histograms
    assert len(at.get("image")) == 2 * 2 * 8  # closest pairs in two spaces, side by side
