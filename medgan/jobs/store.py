"""The background job store (SQLite ``jobs`` table) and the worker launcher.

A job is a row: ``submit`` inserts it as ``queued`` and starts a detached worker process
(``python -m medgan worker JOB_ID``) that waits for a free slot, runs the job's function and writes its
progress, heartbeat and result back here. The app never holds the only copy of a job's state, so closing
the page or restarting the app does not stop it; a worker that dies is noticed by :func:`reconcile`
(dead pid or stale heartbeat) and its job is marked ``interrupted``, ready for :func:`resume`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from medgan import audit, db, workspace
from medgan.jobs import devices
from medgan.workspace import now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    result TEXT,
    error TEXT,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    heartbeat REAL,
    pid INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
"""

HEARTBEAT_SECONDS = 2.0
FAILURE_PREFIX = "job failed: "  # the worker.log line that carries a failed job's cause
STALE_SECONDS = 30.0


class JobStatus(StrEnum):
    """Lifecycle of a job."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
RESUMABLE = (JobStatus.INTERRUPTED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobNotFound(KeyError):
    """No job with that id."""


@dataclass(frozen=True)
class Job:
    """One row of the jobs table; ``heartbeat`` is Unix time in seconds, the other times ISO 8601 (UTC)."""

    id: str
    kind: str
    title: str
    status: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    progress: float
    message: str
    created: str
    started: str | None
    finished: str | None
    heartbeat: float | None
    pid: int | None
    cancel_requested: bool

    @property
    def folder(self) -> Path:
        """The job's folder in the workspace (worker log, job files)."""
        return workspace.subdir("jobs", self.id)


def _job(row: Any) -> Job:
    data = dict(row)
    data.pop("seq")
    data["params"] = json.loads(data["params"])
    data["result"] = json.loads(data["result"]) if data["result"] else None
    data["cancel_requested"] = bool(data["cancel_requested"])
    return Job(**data)


def max_running() -> int:
    """How many jobs may run at once: ``MEDGAN_MAX_JOBS``, else one per GPU, else one on CPU."""
    return len(devices.slots())


def create_job(kind: str, params: dict[str, Any], title: str = "") -> str:
    """Insert a ``queued`` job row without launching a worker; returns its id."""
    from medgan.jobs.kinds import JOB_KINDS

    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(JOB_KINDS))}")
    job_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    with db.transaction(SCHEMA) as conn:
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
        conn.execute(
            "INSERT INTO jobs (id, seq, kind, title, status, params, created, heartbeat) VALUES (?,?,?,?,?,?,?,?)",
            (job_id, seq, kind, title, JobStatus.QUEUED, json.dumps(params), now_iso(), time.time()),
        )
    audit.record("queue job", f"job:{job_id}", kind=kind, title=title)
    return job_id


def launch_worker(job_id: str) -> int:
    """Start ``python -m medgan worker JOB_ID`` detached (own session, output to the job's log); its pid."""
    folder = workspace.subdir("jobs", job_id)
    with open(folder / "worker.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "medgan", "worker", job_id],
            cwd=workspace.REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "MEDGAN_HOME": str(workspace.home())},
        )
    _update(job_id, pid=proc.pid, heartbeat=time.time())
    return proc.pid


def submit(kind: str, params: dict[str, Any], title: str = "") -> str:
    """Queue a job and start its detached worker; returns the job id."""
    job_id = create_job(kind, params, title)
    launch_worker(job_id)
    return job_id


_last_reconcile: dict[str, float] = {}


def reconcile_if_due(every: float = HEARTBEAT_SECONDS) -> None:
    """:func:`reconcile` at most every ``every`` seconds per workspace and process: the live pages of many
    sessions poll the jobs, and a dead worker is only noticed after ``STALE_SECONDS`` anyway."""
    key, now = db.db_path(), time.monotonic()
    if now - _last_reconcile.get(key, -every) >= every:
        _last_reconcile[key] = now
        reconcile()


def get_job(job_id: str) -> Job:
    """One job by id (after :func:`reconcile`, at most every 2 s); raises :class:`JobNotFound`."""
    reconcile_if_due()
    return _get(job_id)


def _get(job_id: str) -> Job:
    conn = db.connect(SCHEMA)
    try:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise JobNotFound(f"no job with id {job_id!r}")
    return _job(row)


def latest_job(kind: str, **match: Any) -> Job | None:
    """The newest job of ``kind`` whose params hold ``match`` (scalar values): one query, whatever the number
    of jobs, so live pages can ask every poll."""
    if not all(key.isidentifier() for key in match):
        raise ValueError(f"param names must be identifiers: {sorted(match)}")
    reconcile_if_due()
    where = "".join(f" AND json_extract(params, '$.{key}') IS ?" for key in match)
    conn = db.connect(SCHEMA)
    try:
        row = conn.execute(
            f"SELECT * FROM jobs WHERE kind = ?{where} ORDER BY seq DESC LIMIT 1", (kind, *match.values())
        ).fetchone()
    finally:
        conn.close()
    return _job(row) if row is not None else None


def list_jobs(kind: str | None = None) -> list[Job]:
    """All jobs (of one kind), newest first, after :func:`reconcile` (at most every 2 s)."""
    reconcile_if_due()
    conn = db.connect(SCHEMA)
    try:
        sql = "SELECT * FROM jobs" + (" WHERE kind = ?" if kind else "") + " ORDER BY seq DESC"
        rows = conn.execute(sql, (kind,) if kind else ()).fetchall()
    finally:
        conn.close()
    return [_job(r) for r in rows]


def _update(job_id: str, **fields: Any) -> None:
    """One short autocommit UPDATE of a job row, retried while the database is busy."""
    sets = ", ".join(f"{name} = ?" for name in fields)
    db.write(SCHEMA, f"UPDATE jobs SET {sets} WHERE id = ?", (*fields.values(), job_id))


def set_progress(job_id: str, fraction: float, message: str) -> None:
    """Record progress (0..1) and a status line; also counts as a heartbeat."""
    _update(job_id, progress=min(1.0, max(0.0, float(fraction))), message=message, heartbeat=time.time())


def beat(job_id: str) -> None:
    """Record that the worker is alive."""
    _update(job_id, heartbeat=time.time())


def cancel_requested(job_id: str) -> bool:
    """True when someone asked this job to stop."""
    return _get(job_id).cancel_requested


def request_cancel(job_id: str) -> None:
    """Ask a job to stop: a queued job is cancelled at once, a running one at its next poll."""
    with db.transaction(SCHEMA) as conn:
        conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
        conn.execute(
            "UPDATE jobs SET status = ?, finished = ?, message = 'cancelled before it started'"
            " WHERE id = ? AND status = ?",
            (JobStatus.CANCELLED, now_iso(), job_id, JobStatus.QUEUED),
        )
    audit.record("cancel job", f"job:{job_id}")


def finish(job_id: str, status: JobStatus, result: dict | None = None, error: str | None = None) -> None:
    """Record a job's end: its status, result (JSON) or error text."""
    fields: dict[str, Any] = {"status": status, "finished": now_iso(), "heartbeat": time.time()}
    if result is not None:
        fields.update(result=json.dumps(result, default=str), progress=1.0)
    if error is not None:
        fields["error"] = error
    _update(job_id, **fields)


def max_tasks() -> int:
    """How many short tasks (import, evaluate, export...) may run at once: ``MEDGAN_MAX_TASKS``, default 2."""
    return max(1, int(os.environ.get("MEDGAN_MAX_TASKS", "").strip() or 2))


def try_start(job_id: str, pid: int) -> devices.Slot | None:
    """Mark a queued job running if a slot of its queue is free for it in queue order (one transaction):
    device kinds (training, classifier) take device slots (:mod:`medgan.jobs.devices`), short tasks their
    own ``MEDGAN_MAX_TASKS`` slots. Returns its slot, or None while it waits."""
    from medgan.jobs.kinds import DEVICE_KINDS

    device = _get(job_id).kind in DEVICE_KINDS
    lane = f"j.kind {'IN' if device else 'NOT IN'} ({', '.join('?' * len(DEVICE_KINDS))})"
    free = devices.slots() if device else [devices.Slot(f"task{i}", None) for i in range(max_tasks())]
    with db.transaction(SCHEMA + devices.SCHEMA) as conn:
        running = conn.execute(
            f"SELECT s.slot FROM jobs j LEFT JOIN job_slots s ON s.job_id = j.id WHERE j.status = ? AND {lane}",
            (JobStatus.RUNNING, *DEVICE_KINDS),
        ).fetchall()
        used = {r["slot"] for r in running}
        free = [s for s in free if s.name not in used][sum(r["slot"] is None for r in running) :]
        queued = conn.execute(
            f"SELECT j.id, j.params FROM jobs j WHERE j.status = ? AND {lane} ORDER BY j.seq",
            (JobStatus.QUEUED, *DEVICE_KINDS),
        )
        wants = [(r["id"], json.loads(r["params"]).get("gpu")) for r in queued.fetchall()]
        slot = devices.assign(wants, free).get(job_id)
        if slot is None:
            return None
        conn.execute(
            "INSERT OR REPLACE INTO job_slots (job_id, slot, gpu) VALUES (?, ?, ?)",
            (job_id, slot.name, slot.gpu),
        )
        conn.execute(
            "UPDATE jobs SET status = ?, started = ?, pid = ?, heartbeat = ? WHERE id = ?",
            (JobStatus.RUNNING, now_iso(), pid, time.time(), job_id),
        )
    return slot


def pid_alive(pid: int | None) -> bool:
    """True when a process with ``pid`` exists and is not a zombie (Linux /proc checked when present)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def reconcile(stale_seconds: float = STALE_SECONDS) -> list[str]:
    """Mark active jobs whose worker is gone (dead pid or heartbeat older than ``stale_seconds``)
    as ``interrupted``; returns their ids."""
    conn = db.connect(SCHEMA)
    try:
        rows = conn.execute(
            "SELECT id, status, pid, heartbeat FROM jobs WHERE status IN (?, ?)", ACTIVE
        ).fetchall()
    finally:
        conn.close()
    cutoff = time.time() - stale_seconds
    dead = []
    for r in rows:
        pid_gone = r["pid"] is not None and not pid_alive(r["pid"])
        starting = r["status"] == JobStatus.QUEUED and r["pid"] is not None and not pid_gone
        if starting or (not pid_gone and (r["heartbeat"] or 0) >= cutoff):
            continue  # a live queued worker may still be importing (slow on a busy machine): not stale
        # a stale heartbeat is checked again as the row is written: a busy database may have delayed it
        changed = db.write(
            SCHEMA,
            "UPDATE jobs SET status = ?, finished = ?, message = ? WHERE id = ? AND status IN (?, ?)"
            " AND (? OR COALESCE(heartbeat, 0) < ?)",
            (
                JobStatus.INTERRUPTED,
                now_iso(),
                _stop_message(r["id"]),
                r["id"],
                *ACTIVE,
                int(pid_gone),
                cutoff,
            ),
        )
        if changed:
            dead.append(r["id"])
    return dead


def _stop_message(job_id: str) -> str:
    """Why a worker stopped, from the last ``job failed:`` line of its worker.log when it wrote one."""
    log = workspace.home() / "jobs" / job_id / "worker.log"
    try:
        with open(log, "rb") as fh:
            fh.seek(max(0, log.stat().st_size - 8192))
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    cause = next(
        (line[len(FAILURE_PREFIX) :] for line in reversed(lines) if line.startswith(FAILURE_PREFIX)), ""
    )
    return (
        f"worker stopped: {cause}; resume to continue"
        if cause
        else "worker stopped without finishing (no cause in its log: killed, e.g. out of memory?); resume to continue"
    )


def resume(job_id: str, launch: bool = True) -> None:
    """Queue an interrupted, failed or cancelled job again (at the end of the line) and start its worker."""
    job = get_job(job_id)
    if job.status not in RESUMABLE:
        raise ValueError(f"job {job_id} is {job.status}; only {', '.join(RESUMABLE)} jobs can be resumed")
    with db.transaction(SCHEMA) as conn:
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
        conn.execute(
            "UPDATE jobs SET status = ?, seq = ?, error = NULL, finished = NULL, cancel_requested = 0,"
            " pid = NULL, message = 'queued to resume', heartbeat = ? WHERE id = ?",
            (JobStatus.QUEUED, seq, time.time(), job_id),
        )
    audit.record("resume job", f"job:{job_id}", kind=job.kind)
    if launch:
        launch_worker(job_id)


def delete_job(job_id: str) -> None:
    """Remove a finished job's row (its folder is the caller's to remove); active jobs are refused."""
    with db.transaction(SCHEMA) as conn:
        row = conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is not None and row["status"] in ACTIVE:
            raise ValueError(f"job {job_id} is {row['status']}: cancel it first")
        conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
