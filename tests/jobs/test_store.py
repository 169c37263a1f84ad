"""The job store: queue order and slots, inline runs, stale heartbeats, resume rules."""

from __future__ import annotations

import os
import time

import pytest

from medgan.jobs import store
from medgan.jobs.runner import run_inline
from medgan.jobs.training import start_training
from medgan.train.trainer import create_run
from tests.train.helpers import tiny_config


def test_queue_runs_in_order_with_one_slot(monkeypatch):
    monkeypatch.setenv("MEDGAN_MAX_JOBS", "1")
    first, second = store.create_job("train", {"n": 1}), store.create_job("train", {"n": 2})
    assert not store.try_start(second, os.getpid())  # not its turn
    assert store.try_start(first, os.getpid())
    assert not store.try_start(second, os.getpid())  # the only slot is taken
    store.finish(first, store.JobStatus.DONE, result={"ok": True})
    assert store.try_start(second, os.getpid())
    jobs = store.list_jobs(kind="train")
    assert [j.id for j in jobs] == [second, first] and jobs[1].result == {"ok": True}
    assert jobs[1].progress == 1.0 and jobs[0].status == "running"


def test_two_slots_start_two_jobs(monkeypatch):
    monkeypatch.setenv("MEDGAN_MAX_JOBS", "2")
    ids = [store.create_job("train", {}) for _ in range(3)]
    assert [bool(store.try_start(i, os.getpid())) for i in ids] == [True, True, False]


def test_stale_heartbeat_or_dead_pid_marks_interrupted():
    stale, dead, alive = (store.create_job("train", {}) for _ in range(3))
    store._update(stale, status="running", pid=os.getpid(), heartbeat=time.time() - 120)
    store._update(dead, status="running", pid=2**22 + 12345, heartbeat=time.time())
    store._update(alive, status="running", pid=os.getpid(), heartbeat=time.time())
    assert sorted(store.reconcile(stale_seconds=30)) == sorted([stale, dead])
    assert store.get_job(stale).status == "interrupted" and store.get_job(alive).status == "running"
    store.resume(stale, launch=False)
    assert store.get_job(stale).status == "queued"
    with pytest.raises(ValueError, match="only"):
        store.resume(alive, launch=False)


def test_cancel_of_a_queued_job_is_immediate():
    job_id = store.create_job("train", {})
    store.request_cancel(job_id)
    job = store.get_job(job_id)
    assert job.status == "cancelled" and job.cancel_requested


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown job kind"):
        store.submit("paint", {})


def test_run_inline_trains_and_records_result(demo_dataset):
    run_id = create_run(tiny_config(steps=2))
    result = run_inline("train", {"run_id": run_id})
    assert result == {"run_id": run_id, "status": "done", "step": 2, "total_steps": 2}
    job = store.list_jobs(kind="train")[0]
    assert job.status == "done" and job.result == result and job.progress == 1.0 and "step 2/2" in job.message


def test_start_training_without_launch_queues_a_job(demo_dataset):
    job_id, run_id = start_training(tiny_config(), launch=False)
    job = store.get_job(job_id)
    assert job.status == "queued" and job.params == {"run_id": run_id} and "dcgan" in job.title


def test_a_live_queued_worker_is_not_stale_while_it_starts():
    starting, gone = store.create_job("export", {}), store.create_job("export", {})
    store._update(starting, pid=os.getpid(), heartbeat=time.time() - 120)  # still importing, no beat yet
    store._update(gone, pid=2**22 + 12345, heartbeat=time.time())
    assert store.reconcile(stale_seconds=30) == [gone]
    assert store.get_job(starting).status == "queued"


def test_latest_job_matches_params_in_one_query():
    first = store.create_job("evaluate", {"run_id": "a", "n": None, "seed": 0})
    second = store.create_job("evaluate", {"run_id": "a", "n": 24, "seed": 0})
    store.create_job("evaluate", {"run_id": "b", "n": None, "seed": 0})
    assert store.latest_job("evaluate", run_id="a").id == second
    assert store.latest_job("evaluate", run_id="a", n=None).id == first
    assert store.latest_job("export", run_id="a") is None
    with pytest.raises(ValueError, match="identifiers"):
        store.latest_job("evaluate", **{"x') OR 1 --": 1})
