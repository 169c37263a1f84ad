"""One job per GPU for real: slots per GPU, a queue per device, workers pinned with CUDA_VISIBLE_DEVICES,
and one kept database connection per worker thread."""

from __future__ import annotations

import os
import threading

import pytest

from medgan import db
from medgan.jobs import devices, store
from tests.jobs.test_worker import wait_for
from tests.train.helpers import tiny_config


@pytest.fixture
def two_gpus(monkeypatch):
    """A pool of two GPU ids (a machine with two GPUs, as the scheduler sees it; nothing here uses CUDA)."""
    monkeypatch.setenv("MEDGAN_GPUS", "0,1")
    monkeypatch.delenv("MEDGAN_MAX_JOBS", raising=False)


def _start(job_id: str) -> str | None:
    slot = store.try_start(job_id, os.getpid())
    return slot.name if slot else None


def test_one_job_per_gpu_each_on_its_own(two_gpus):
    a, b, c = (store.create_job("train", {}) for _ in range(3))
    assert store.max_running() == 2
    assert [_start(a), _start(b), _start(c)] == ["gpu0", "gpu1", None]
    store.finish(a, store.JobStatus.DONE, result={})
    assert _start(c) == "gpu0"  # the freed GPU, not a third job on GPU 1


def test_a_job_given_a_gpu_waits_in_that_gpu_queue(two_gpus):
    a, b = store.create_job("train", {}), store.create_job("train", {})
    assert [_start(a), _start(b)] == ["gpu0", "gpu1"]
    pinned, other = store.create_job("train", {"gpu": "1"}), store.create_job("train", {})
    store.finish(a, store.JobStatus.DONE, result={})
    assert _start(pinned) is None and _start(other) == "gpu0"  # GPU 0 is free, but it was given GPU 1
    store.finish(b, store.JobStatus.DONE, result={})
    assert _start(pinned) == "gpu1"


def test_slots_share_gpus_round_robin_and_cpu_slots(monkeypatch):
    monkeypatch.setenv("MEDGAN_GPUS", "2,5")
    monkeypatch.setenv("MEDGAN_MAX_JOBS", "3")
    assert [(s.name, s.gpu) for s in devices.slots()] == [("gpu2", "2"), ("gpu5", "5"), ("gpu2.1", "2")]
    monkeypatch.setenv("MEDGAN_GPUS", "")
    assert [(s.name, s.gpu) for s in devices.slots()] == [("cpu0", None), ("cpu1", None), ("cpu2", None)]


def test_kept_connection_per_thread(monkeypatch):
    monkeypatch.setattr(db, "_reuse", True)
    first = db.connect(store.SCHEMA)
    first.close()  # callers close after each use: the connection stays open for the next call
    assert db.connect(store.SCHEMA)._conn is first._conn and first.execute("SELECT 1").fetchone()[0] == 1
    other = []
    thread = threading.Thread(target=lambda: other.append(db.connect(store.SCHEMA)._conn))
    thread.start()
    thread.join()
    assert other[0] is not first._conn  # the heartbeat thread has its own
    job = store.create_job("train", {})
    store.set_progress(job, 0.5, "half")
    assert store.get_job(job).message == "half"


def _pinned_gpu(job_id: str) -> str:
    """The CUDA_VISIBLE_DEVICES the job's worker set before running it (from its log)."""
    log = (store.get_job(job_id).folder / "worker.log").read_text()
    return (
        next(line for line in log.splitlines() if "CUDA_VISIBLE_DEVICES=" in line)
        .rsplit("=", 1)[1]
        .rstrip(")")
    )


@pytest.mark.slow
def test_workers_are_pinned_to_the_gpu_they_were_given(demo_dataset, two_gpus, monkeypatch):
    """Two workers at once on a two-GPU pool: each sees only its own GPU (CPU training here)."""
    from medgan.jobs.training import start_training

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    long_job, _ = start_training(tiny_config(steps=100000, sample_every=1000, checkpoint_every=1000))
    wait_for(long_job, lambda j: j.status == "running")
    short_job, _ = start_training(tiny_config(steps=2))
    assert wait_for(short_job, lambda j: j.status not in store.ACTIVE).status == "done"
    store.request_cancel(long_job)
    assert wait_for(long_job, lambda j: j.status not in store.ACTIVE).status == "cancelled"
    assert (_pinned_gpu(long_job), _pinned_gpu(short_job)) == ("0", "1")
