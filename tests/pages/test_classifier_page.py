"""Classifier page: start a comparison as a background job, and show a finished one's results."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from medgan import workspace
from medgan.classify.config import CompareConfig
from medgan.jobs import store
from medgan.jobs.runner import run_inline

PAGE = str(workspace.REPO_ROOT / "views" / "classifier.py")


def test_start_button_queues_a_compare_job_and_cancel_stops_it(demo_dataset, monkeypatch):
    launched = []
    monkeypatch.setattr(store, "launch_worker", launched.append)  # no detached process in the test
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception
    assert "No comparison yet" in at.info[0].value
    at.number_input(key="clf_folds").set_value(4)
    at.text_input(key="clf_sizes").set_value("50,all")
    at.button[0].click().run()
    assert not at.exception and not at.error
    job = store.list_jobs(kind="compare")[0]
    assert launched == [job.id] and job.status == "queued"
    assert CompareConfig.from_dict(job.params) == CompareConfig(
        dataset="demo-phantom", runs=("demo",), folds=4, sizes=(50, 0)
    )
    assert "queued" in at.get("progress")[0].proto.text
    at.button(key="clf_cancel").click().run()
    assert not at.exception
    assert store.get_job(job.id).status == "cancelled"
    assert "Comparison cancelled" in at.warning[0].value


def test_bad_sizes_show_an_error(demo_dataset, monkeypatch):
    monkeypatch.setattr(store, "launch_worker", lambda job_id: 0)
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    at.text_input(key="clf_sizes").set_value("50,lots")
    at.button[0].click().run()
    assert "expected comma-separated integers or 'all'" in at.error[0].value
    assert not store.list_jobs(kind="compare")


@pytest.mark.slow
def test_finished_comparison_shows_table_figures_and_downloads(demo_dataset):
    config = CompareConfig(
        dataset=demo_dataset.name,
        runs=(),
        arms=("real", "real+classic"),
        folds=2,
        epochs=1,
        synthetic_per_class=8,
        sizes=(30, 0),
        n_bootstrap=20,
        min_steps_per_epoch=2,
    )
    run_inline("compare", config.to_dict(), title="page test")
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception and not at.error
    table = next(m.value for m in at.markdown if m.value.startswith("| Arm"))
    assert "| real+classic |" in table and "ref." in table
    assert len(at.get("plotly_chart")) == 4  # metrics, confusion, curves, F1 against size
    assert at.dataframe[0].value["test"].tolist() == ["McNemar exact", "DeLong AUC"]
    assert len(at.get("download_button")) == 3
    at.selectbox(key="clf_size").set_value("30").run()
    assert not at.exception
    assert "training size 30" in next(m.value for m in at.markdown if m.value.startswith("| Arm"))
