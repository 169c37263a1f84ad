"""The "compare" job kind (medgan/classify/job.py) run in-process, including cancellation."""

from pathlib import Path

import pytest

from medgan.classify.config import CompareConfig
from medgan.classify.job import job_result
from medgan.jobs import store
from medgan.jobs.context import JobContext
from medgan.jobs.runner import run_inline


def _params(dataset: str) -> dict:
    return CompareConfig(
        dataset=dataset,
        runs=(),
        arms=("real", "real+classic"),
        folds=2,
        epochs=1,
        synthetic_per_class=8,
        n_bootstrap=20,
        batch_size=16,
        min_steps_per_epoch=2,
    ).to_dict()


@pytest.mark.slow
def test_compare_job_saves_its_result_files(brain_dataset):
    summary = run_inline("compare", _params(brain_dataset.name), title="tiny")
    job = store.list_jobs(kind="compare")[0]
    assert job.status == "done" and job.progress == 1.0 and job.message == "done"
    assert {p.name for p in Path(summary["folder"]).iterdir()} >= {
        "comparison.json",
        "metrics.csv",
        "table.md",
    }
    result = job_result(job)
    assert result["config"]["arms"] == ["real", "real+classic"]
    assert summary["table_markdown"].count("\n| real") == 2


def test_cancelled_compare_job_stops_and_is_marked_cancelled(brain_dataset, monkeypatch):
    monkeypatch.setattr(JobContext, "cancelled", lambda self: True)
    assert run_inline("compare", _params(brain_dataset.name)) == {}
    job = store.list_jobs(kind="compare")[0]
    assert job.status == "cancelled" and job_result(job) is None


def test_bad_params_fail_the_job_with_the_reason(brain_dataset):
    with pytest.raises(ValueError, match="unknown comparison settings: \\['colour'\\]"):
        run_inline("compare", {**_params(brain_dataset.name), "colour": "red"})
    assert "colour" in store.list_jobs(kind="compare")[0].error
