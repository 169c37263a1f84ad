"""Long tasks as jobs: their own queue beside training, throttled progress, cancel, results read back."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from medgan.data.store import DatasetNotFound, get_dataset, list_datasets
from medgan.jobs import store, tasks
from medgan.jobs.context import JobCancelled, JobContext
from medgan.jobs.runner import run_inline


def _folder(root, n: int = 4):
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((16, 16), 20 * i, np.uint8)).save(root / label / f"{i}.png")
    return root


def test_tasks_do_not_wait_behind_training(monkeypatch):
    monkeypatch.setenv("MEDGAN_MAX_JOBS", "1")
    monkeypatch.setenv("MEDGAN_MAX_TASKS", "1")
    train, compare = store.create_job("train", {}), store.create_job("compare", {})
    export, evaluate = store.create_job("export", {}), store.create_job("evaluate", {})
    assert store.try_start(train, os.getpid())
    assert not store.try_start(compare, os.getpid())  # the device slot is taken
    assert store.try_start(export, os.getpid())  # short tasks have their own queue
    assert not store.try_start(evaluate, os.getpid())  # ... of MEDGAN_MAX_TASKS slots
    store.finish(export, store.JobStatus.DONE, result={})
    assert store.try_start(evaluate, os.getpid()) and not store.try_start(compare, os.getpid())


def test_import_job_registers_the_dataset_and_returns_its_summary(tmp_path):
    result = run_inline(
        "import",
        {
            "source": str(_folder(tmp_path / "src")),
            "name": "scans",
            "resolution": 32,
            "options": {"window": None, "multiframe": "frames"},
        },
    )
    assert result["name"] == "scans" and result["n_images"] == 8 and result["version"] == 1
    (job,) = store.list_jobs(kind="import")
    assert job.status == "done" and job.result == result and job.progress == 1.0
    assert tasks.latest("import", name="scans").id == job.id and tasks.latest("import", name="other") is None


def test_cancelled_import_leaves_no_dataset(tmp_path):
    job_id = store.create_job(
        "import", {"source": str(_folder(tmp_path / "src")), "name": "scans", "resolution": 32}
    )
    store.request_cancel(job_id)  # a running job would see the flag at its next progress report
    ctx = JobContext(id=job_id, params=store.get_job(job_id).params, folder=tmp_path, poll_seconds=0)
    with pytest.raises(JobCancelled):
        tasks.run_import_job(ctx)
    with pytest.raises(DatasetNotFound):
        get_dataset("scans")
    assert list_datasets() == [] and not any((tmp_path.parent / "workspace" / "datasets").glob(".staging-*"))


def test_reporter_throttles_database_writes(monkeypatch):
    job_id = store.create_job("export", {})
    writes = []
    ctx = JobContext(id=job_id, params={}, folder=None)
    monkeypatch.setattr(ctx, "progress", lambda fraction, message="": writes.append(fraction))
    report = tasks.reporter(ctx)
    for i in range(1, 1001):
        report(i / 1000, "")
    assert writes[0] == 0.001 and writes[-1] == 1.0 and len(writes) < 10
