"""What the pages show about jobs: elapsed time, ETA from progress, one table row per job."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from medgan.jobs.store import ACTIVE, Job, JobStatus


def _epoch(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


def elapsed_seconds(job: Job, now: float | None = None) -> float | None:
    """Seconds since the job started (until it finished); None before it starts."""
    start = _epoch(job.started)
    if start is None:
        return None
    end = _epoch(job.finished) if job.status not in ACTIVE else None
    return max(0.0, (end or now or time.time()) - start)


def eta_seconds(job: Job, now: float | None = None) -> float | None:
    """Remaining seconds of a running job, extrapolated from its progress (None when it cannot be told)."""
    elapsed = elapsed_seconds(job, now)
    if job.status != JobStatus.RUNNING or elapsed is None or job.progress < 0.01:
        return None
    return elapsed * (1.0 - job.progress) / job.progress


def job_row(job: Job, now: float | None = None) -> dict[str, Any]:
    """One row of the Jobs table."""
    from medgan.train.monitor import format_eta

    elapsed = elapsed_seconds(job, now)
    return {
        "job": job.id,
        "kind": job.kind,
        "title": job.title,
        "status": job.status,
        "progress": round(job.progress, 3),
        "message": job.error or job.message,
        "elapsed": format_eta(elapsed) if elapsed is not None else "",
        "ETA": format_eta(eta_seconds(job, now)) if job.status == JobStatus.RUNNING else "",
        "created": job.created,
    }


def status_line(job: Job, now: float | None = None) -> str:
    """``running: 40/100 files (elapsed 12 s, ETA 18 s)`` and the like."""
    from medgan.train.monitor import format_eta

    if job.status == JobStatus.QUEUED:
        return f"queued: {job.message or 'waiting for a free worker slot'}"
    times = f" (elapsed {format_eta(elapsed_seconds(job, now))}"
    times += f", ETA {format_eta(eta_seconds(job, now))})" if job.status == JobStatus.RUNNING else ")"
    return f"{job.status}: {job.error or job.message or job.title}{times}"
