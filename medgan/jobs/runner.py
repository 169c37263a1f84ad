"""Running a job: in the detached worker process (:func:`run_worker`) or in-process for tests
(:func:`run_inline`). Both call the kind's function with a :class:`JobContext` and record the outcome."""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from typing import Any

from medgan import db, failures, workspace
from medgan.jobs import devices, store
from medgan.jobs.context import JobCancelled, JobContext
from medgan.jobs.kinds import job_function

QUEUE_POLL_SECONDS = 1.0


class _Heartbeat:
    """A daemon thread that records a heartbeat every few seconds while a job runs."""

    def __init__(self, job_id: str, every: float = store.HEARTBEAT_SECONDS) -> None:
        self.job_id, self.every = job_id, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                store.beat(self.job_id)
            except Exception:  # noqa: BLE001 - a busy database must not kill the job; the next beat retries
                continue

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _execute(job: store.Job) -> dict[str, Any]:
    """Run a job that is already marked running; record done / cancelled / failed / interrupted."""
    ctx = JobContext(id=job.id, params=job.params, folder=workspace.subdir("jobs", job.id))
    try:
        with _Heartbeat(job.id):
            result = job_function(job.kind)(ctx) or {}
    except JobCancelled:
        store.finish(job.id, store.JobStatus.CANCELLED, error="cancelled by request")
        return {}
    except (KeyboardInterrupt, SystemExit):
        store.finish(job.id, store.JobStatus.INTERRUPTED, error="worker was stopped; resume to continue")
        raise
    except Exception as exc:
        record_failure(job.id, exc)
        raise
    final = store.JobStatus.CANCELLED if ctx.cancelled() else store.JobStatus.DONE
    store.finish(job.id, final, result=result)
    return result


def record_failure(job_id: str, exc: BaseException) -> str:
    """Write why the job died to worker.log (traceback, then ``job failed: <cause>``) and to the job row.

    On a full disk the workspace's reserve file is removed first, so there is room for both; a log or
    database that still cannot be written does not hide the other. Returns the cause."""
    cause = failures.describe(exc)
    if failures.storage_problem(exc) == failures.DISK_FULL:
        workspace.release_reserve()
    try:
        traceback.print_exc()
        print(f"{store.FAILURE_PREFIX}{cause}", flush=True)
    except OSError:
        pass  # the log is on the full disk too; the job row may still take the cause
    try:
        store.finish(job_id, store.JobStatus.FAILED, error=cause)
    except Exception as db_exc:  # noqa: BLE001 - the cause is in worker.log; reconcile reads it from there
        print(f"could not record the failure in the database: {failures.describe(db_exc)}", flush=True)
    return cause


def wait_for_turn(job_id: str, poll: float = QUEUE_POLL_SECONDS) -> devices.Slot | None:
    """Block until this queued job may run (its turn, a slot free); its slot, or None if it left the queue."""
    pid = os.getpid()
    while True:
        store.reconcile()
        slot = store.try_start(job_id, pid)
        if slot is not None:
            return slot
        if store._get(job_id).status != store.JobStatus.QUEUED:
            return None
        store.beat(job_id)
        time.sleep(poll)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_worker(job_id: str) -> int:
    """The worker process's body: wait in the queue, run the job, record the outcome; exit status."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    db.reuse_connections()  # one connection per thread for the worker's whole life
    workspace.remove_stale_temp_files()
    workspace.keep_reserve()
    store._update(job_id, pid=os.getpid(), heartbeat=time.time())
    slot = wait_for_turn(job_id)
    if slot is None:
        print(f"job {job_id} left the queue before it started ({store._get(job_id).status})", flush=True)
        return 0
    devices.pin(slot)  # before the job imports anything that starts CUDA
    print(
        f"job {job_id} runs on slot {slot.name} (CUDA_VISIBLE_DEVICES={slot.gpu or 'unchanged'})", flush=True
    )
    try:
        _execute(store._get(job_id))
    except Exception:  # noqa: BLE001 - already recorded as failed with its message
        return 1
    return 0


def run_inline(kind: str, params: dict[str, Any], title: str = "") -> dict[str, Any]:
    """Run a job in this process without queueing (tests, scripts); returns its result, raises its error."""
    job_id = store.create_job(kind, params, title)
    store._update(
        job_id,
        status=store.JobStatus.RUNNING,
        started=store.now_iso(),
        pid=os.getpid(),
        heartbeat=time.time(),
    )
    return _execute(store._get(job_id))
