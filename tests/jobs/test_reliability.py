"""Jobs that survive a busy database and say why they died: a write lock held during training (the job
finishes), an injected "no space left on device" (the cause lands in the job row and worker.log), stale
temp files removed, pages that say the workspace is full."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from medgan import db, failures, workspace
from medgan.jobs import store
from medgan.jobs.training import start_training
from medgan.train.checkpoint import save_checkpoint
from tests.jobs.test_worker import wait_for
from tests.train.helpers import tiny_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_training_finishes_while_another_process_holds_the_write_lock(demo_dataset, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv(db.BUSY_ENV, "0.5")  # each attempt gives up after 0.5 s: only the retries carry it
    job_id, run_id = start_training(tiny_config(steps=40, checkpoint_every=10, sample_every=20))
    wait_for(job_id, lambda j: j.status == "running" and j.progress > 0)
    locker = sqlite3.connect(db.db_path(), isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # what a long study-creation transaction used to do
    held = time.monotonic()
    time.sleep(8)
    progress_during_lock = store.get_job(job_id).progress  # reads still work under the lock (WAL)
    locker.execute("COMMIT")
    locker.close()
    assert time.monotonic() - held >= 8
    done = wait_for(job_id, lambda j: j.status not in store.ACTIVE)
    assert done.status == "done" and done.result["step"] == 40, done.error
    assert 0 < progress_during_lock < 1
    assert "locked" not in (done.folder / "worker.log").read_text()


_FULL_DISK_WORKER = """
import errno, sys, torch
from medgan.jobs.runner import run_worker
def full(obj, f, *a, **k):
    raise OSError(errno.ENOSPC, "No space left on device", str(f))
torch.save = full
sys.exit(run_worker(sys.argv[1]))
"""


@pytest.mark.slow
def test_disk_full_during_a_checkpoint_is_recorded_in_the_job_and_its_log(demo_dataset, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    job_id, _ = start_training(tiny_config(steps=4), launch=False)
    log = workspace.subdir("jobs", job_id) / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.run(
            [sys.executable, "-c", _FULL_DISK_WORKER, job_id],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    assert proc.returncode == 1
    job = store.get_job(job_id)
    assert job.status == "failed"
    assert job.error.startswith("the workspace's disk is full") and "OSError" in job.error
    assert str(workspace.home()) not in job.error  # the temp file's server path is not shown
    text = log.read_text()
    assert "Traceback" in text and f"{store.FAILURE_PREFIX}the workspace's disk is full" in text
    assert not (workspace.home() / workspace.RESERVE_FILE).exists()  # freed to make room for the record


def test_a_worker_that_could_not_write_the_database_leaves_its_cause_for_reconcile():
    job_id = store.create_job("train", {})
    store._update(job_id, status="running", pid=2**22 + 12345, heartbeat=time.time())
    log = workspace.subdir("jobs", job_id) / "worker.log"
    log.write_text(f"Traceback ...\n{store.FAILURE_PREFIX}{failures.DISK_FULL} (OSError: [Errno 28])\n")
    assert store.reconcile() == [job_id]
    job = store.get_job(job_id)
    assert job.status == "interrupted" and failures.DISK_FULL in job.message


def test_causes_are_named_without_server_paths():
    full = OSError(errno.ENOSPC, "No space left on device", "/srv/medgan/workspace/runs/r1/.latest.pt.x.tmp")
    assert failures.describe(full).startswith(failures.DISK_FULL) and "/srv" not in failures.describe(full)
    assert failures.describe(sqlite3.OperationalError("database or disk is full")).startswith(
        failures.DISK_FULL
    )
    assert failures.describe(sqlite3.OperationalError("attempt to write a readonly database")).startswith(
        failures.READ_ONLY
    )
    assert failures.describe(MemoryError()) == failures.OUT_OF_MEMORY
    assert failures.describe(ValueError("bad /a/b/c.png")) == "ValueError: bad c.png"


def test_stale_temp_files_are_removed_after_a_save_and_at_start(tmp_path):
    folder = workspace.subdir("runs", "r1", "checkpoints")
    stale = folder / ".latest.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = folder / ".latest.pt.def456.tmp"  # another writer's, still being written
    fresh.write_bytes(b"x")
    save_checkpoint(folder / "latest.pt", {"step": 1})
    assert not stale.exists() and fresh.exists() and (folder / "latest.pt").exists()
    os.utime(fresh, (time.time() - 7200, time.time() - 7200))
    export_tmp = workspace.subdir("exports") / ".a.zip.x.tmp"
    export_tmp.write_bytes(b"x")
    os.utime(export_tmp, (time.time() - 7200, time.time() - 7200))
    assert workspace.remove_stale_temp_files() == 2 and not fresh.exists() and not export_tmp.exists()


def test_pages_say_when_the_workspace_is_full(monkeypatch):
    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    monkeypatch.setattr(db, "connect", full)
    at.run()
    assert not at.exception
    assert "disk is full" in at.error[0].value and "free some space" in at.error[0].value


def test_threaded_retry_outlasts_a_lock(monkeypatch):
    monkeypatch.setenv(db.BUSY_ENV, "0.1")
    monkeypatch.setenv(db.RETRY_ENV, "30")
    job_id = store.create_job("train", {})
    locker = sqlite3.connect(db.db_path(), isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    threading.Timer(1.5, lambda: (locker.execute("COMMIT"), locker.close())).start()
    store.set_progress(job_id, 0.5, "halfway")  # waits through the lock instead of failing
    assert store.get_job(job_id).message == "halfway"
