"""The study owner's page: password gate, rater links and progress, revoking, results and CSV download."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medgan.turing import session, store
from medgan.turing.access import PASSWORD_ENV
from medgan.turing.study import StudySpec, create_study

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "turing.py")


@pytest.fixture
def owner_study(demo_dataset, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    spec = StudySpec(
        name="owner-study",
        dataset=demo_dataset.name,
        run_id="demo",
        n_real=2,
        n_synthetic=2,
        raters=["A", "B"],
        per_class=True,
        seed=5,
    )
    return create_study(spec)


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60).run()


def test_studies_tab_lists_links_and_progress(owner_study, monkeypatch):
    monkeypatch.setenv("MEDGAN_BASE_URL", "https://studio.example.org")
    s, raters = owner_study
    session.record_answer(raters[0].token, session.next_image_id(raters[0].token), "real", 3)
    at = _page()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["rater"].tolist() == ["A", "B"] and table["answered"].tolist() == [1, 0]
    assert table["link"].tolist() == [f"https://studio.example.org/?rater={r.token}" for r in raters]


def test_a_local_rater_address_is_warned_and_a_saved_one_is_used(owner_study, monkeypatch):
    monkeypatch.setenv("MEDGAN_BASE_URL", "http://localhost:8501")
    at = _page()
    assert not at.exception and "only opens on this machine" in at.warning[0].value
    at.text_input(key="turing_base_url").input("https://lab.example.org").run()
    at.button(key="turing_save_url").click().run()
    monkeypatch.delenv("MEDGAN_BASE_URL")
    at = _page()
    assert not at.warning and at.dataframe[0].value["link"][0].startswith("https://lab.example.org/?rater=")


def test_revoke_from_the_page(owner_study):
    s, _ = owner_study
    at = _page()
    at.selectbox(key="turing_revoke_name").set_value("B").run()
    at.button(key="turing_revoke").click().run()
    assert [r.revoked for r in store.list_raters(s.id)] == [False, True]
    assert at.selectbox(key="turing_revoke_name").options == ["A"]


def test_results_show_metrics_kappa_charts_and_csv(owner_study):
    s, raters = owner_study
    for rater in raters:
        for image_id in session.image_order(rater.token):
            session.record_answer(rater.token, image_id, "synthetic", 4)
    at = _page()
    assert not at.exception
    assert "16 ratings" in at.subheader[0].value
    labels = [m.label for m in at.metric]
    assert labels == ["Accuracy, all raters", "p vs 50% (chance), clustered by image", "Fleiss' kappa"]
    assert at.metric[0].value == "50.0%"  # everything called synthetic: half right
    per_rater = at.dataframe[1].value
    assert per_rater["rater"].tolist() == ["A", "B"] and per_rater["sensitivity"].tolist() == [1.0, 1.0]
    assert len(at.get("plotly_chart")) == 2
    assert at.get("download_button")


def test_create_a_study_through_the_form_with_the_demo_generator(demo_dataset, monkeypatch, jobs_here):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    at = _page()
    assert "No studies yet" in at.info[0].value
    at.text_input(key="turing_name").input("form-study")
    at.number_input(key="turing_n_real").set_value(2)
    at.number_input(key="turing_n_synthetic").set_value(3)
    at.text_input(key="turing_raters").input("Ann, Ben")
    at.button[0].click().run()
    assert not at.exception and at.get("progress")[0].proto.text.startswith("queued")
    assert len(jobs_here()) == 1
    at = _page()  # a reload shows the finished job's result
    assert not at.exception and "created with 10 images" in at.success[0].value  # (2 + 3) x 2 classes
    study = store.get_study("form-study")
    assert study.run_id == "demo" and study.per_class
    assert study.details["counts"] == {
        "real": {"mass": 2, "normal": 2},
        "synthetic": {"mass": 3, "normal": 3},
    }
    assert [r.name for r in store.list_raters(study.id)] == ["Ann", "Ben"]
    at.text_input(key="turing_name").input("form-study")
    at.button[0].click().run()
    jobs_here()
    assert "already exists" in _page().error[0].value
