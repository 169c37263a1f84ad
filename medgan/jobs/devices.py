"""Which device a job runs on: one job per GPU for real, each worker pinned with ``CUDA_VISIBLE_DEVICES``.

Slots: ``MEDGAN_MAX_JOBS`` of them if set, else one per GPU in the pool, else one (CPU); slot k goes to
GPU k mod n, so more slots than GPUs share them round-robin. The pool is ``MEDGAN_GPUS`` (comma-separated
ids), else the ids in ``CUDA_VISIBLE_DEVICES``, else the GPUs ``nvidia-smi -L`` lists; it is found
without starting CUDA in this process, since CUDA reads ``CUDA_VISIBLE_DEVICES`` once, when it starts. Queued jobs take free slots in
order; a job whose params name a GPU (``"gpu": "1"``) waits in that GPU's own queue.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_slots (job_id TEXT PRIMARY KEY, slot TEXT NOT NULL, gpu TEXT);
"""


@dataclass(frozen=True)
class Slot:
    """A place for one running job: ``gpu0``, ``gpu0.1`` (a second job on GPU 0) or ``cpu0``."""

    name: str
    gpu: str | None


def gpu_pool() -> list[str]:
    """Ids of the GPUs jobs may use (see the module docstring), without initialising CUDA."""
    for env in ("MEDGAN_GPUS", "CUDA_VISIBLE_DEVICES"):
        value = os.environ.get(env)
        if value is not None:
            return [part.strip() for part in value.split(",") if part.strip() and part.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [m.group(1) for m in re.finditer(r"^GPU (\d+):", listing, flags=re.MULTILINE)]


def slots() -> list[Slot]:
    """All slots, in the order free ones are handed out."""
    gpus = gpu_pool()
    configured = os.environ.get("MEDGAN_MAX_JOBS", "").strip()
    count = max(1, int(configured)) if configured else max(1, len(gpus))
    if not gpus:
        return [Slot(f"cpu{i}", None) for i in range(count)]
    n = len(gpus)
    return [Slot(f"gpu{gpus[k % n]}" + (f".{k // n}" if k >= n else ""), gpus[k % n]) for k in range(count)]


def assign(queued: Iterable[tuple[str, str | None]], free: list[Slot]) -> dict[str, Slot]:
    """Hand free slots to queued ``(job id, wanted GPU or None)`` in queue order: a job that wants a GPU
    takes a free slot on it or waits (without blocking others); any other job takes the first free slot."""
    free, given = list(free), {}
    for job_id, wanted in queued:
        slot = next((s for s in free if wanted is None or s.gpu == str(wanted)), None)
        if slot is not None:
            free.remove(slot)
            given[job_id] = slot
    return given


def pin(slot: Slot) -> None:
    """Make this process see only the slot's GPU (call before anything starts CUDA)."""
    if slot.gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = slot.gpu
