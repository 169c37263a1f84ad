"""Training runs: one folder per run under ``workspace/runs/<id>`` (config.json, metrics.jsonl, samples/,
checkpoints/, status.json), plus the shipped ``demo`` generator in ``checkpoints/demo`` (read-only).

Derived results for any run, ``demo`` included, go to :func:`results_folder`.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from medgan import workspace

DEMO_RUN = "demo"
DEMO_DIR = workspace.REPO_ROOT / "checkpoints" / "demo"
STATUS_FILE = "status.json"
LABEL_KEYS = ("name", "archived")  # set on the Manage page; status writes keep them
CHECKPOINTS = ("best", "latest")  # best: lowest FID tracked while training (medgan.train.tracking)


@dataclass(frozen=True)
class RunInfo:
    """A training run as listed on the pages. ``status``: queued, running, done, failed, cancelled,
    interrupted (worker died) or created."""

    id: str
    dataset: str
    arch: str
    resolution: int
    status: str
    created: str
    step: int
    total_steps: int
    dataset_id: str = ""  # the dataset version it was trained on ("" for runs from before versions)
    has_checkpoint: bool = False  # a checkpoint to sample from, whatever the status (cancelled runs too)
    name: str = ""  # a display name given on the Manage page (the id never changes)
    archived: bool = False  # hidden from pickers and the runs table; files kept


def parse_ref(ref: str) -> tuple[str, str]:
    """A generator reference ``RUN_ID`` or ``RUN_ID@best|latest`` -> (run id, checkpoint); bare means best."""
    run_id, _, checkpoint = ref.partition("@")
    checkpoint = checkpoint or CHECKPOINTS[0]
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"{ref!r}: checkpoint must be one of {', '.join(CHECKPOINTS)}, got {checkpoint!r}")
    return run_id, checkpoint


def generator_ref(run_id: str, checkpoint: str = CHECKPOINTS[0]) -> str:
    """The reference that :func:`parse_ref` reads: the bare id for ``best``, ``RUN_ID@latest`` otherwise."""
    parse_ref(f"{run_id}@{checkpoint}")  # validates the choice
    return run_id if checkpoint == CHECKPOINTS[0] else f"{run_id}@{checkpoint}"


def run_dir(run_id: str) -> Path:
    """The run's folder (``workspace/runs/<id>``); for ``demo`` the shipped read-only folder.

    ``run_id`` may be a generator reference (``RUN_ID@latest``): the folder is the run's."""
    run_id = parse_ref(run_id)[0]
    if run_id == DEMO_RUN:
        return DEMO_DIR
    if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
        raise ValueError(f"invalid run id {run_id!r}")
    return workspace.home() / "runs" / run_id


def run_dataset(run_id: str) -> str:
    """The dataset a run (or ``demo``) was trained on, from its config.json."""
    path = run_dir(run_id) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path.parent}: no run {run_id!r}")
    return str(json.loads(path.read_text())["dataset"])


def run_is_stack(run_id: str) -> bool:
    """True when a run's images are 2.5D stacks (adjacent slices as channels), from its config.json; runs
    from before the flag are not."""
    path = run_dir(run_id) / "config.json"
    return bool(json.loads(path.read_text()).get("stack", False)) if path.is_file() else False


def results_folder(run_id: str) -> Path:
    """Where derived results for a run go (evaluation.json, ...): ``workspace/runs/<id>``, also for demo."""
    run_id = parse_ref(run_id)[0]
    if run_id != DEMO_RUN:
        run_dir(run_id)  # validates the id
    return workspace.subdir("runs", run_id)


def new_run_id(arch: str) -> str:
    """A fresh, sortable run id such as ``20260101-120000-dcgan-1a2b3c``."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{arch}-{uuid.uuid4().hex[:6]}"


def checkpoint_files(run_id: str, config: dict[str, Any] | None = None) -> list[Path]:
    """The checkpoint file(s) a run or generator reference samples from: one, or one per class for per-class
    runs; ``best.pt`` for best where the run kept one (lowest tracked FID), else ``latest.pt``."""
    run_id, checkpoint = parse_ref(run_id)
    folder = run_dir(run_id)
    if run_id == DEMO_RUN:
        return [folder / "generator.pt"]
    config = config if config is not None else json.loads((folder / "config.json").read_text())
    folders = [folder / "checkpoints"]
    if config.get("conditional") == "per-class":
        folders = [folder / "classes" / c / "checkpoints" for c in config.get("class_names", [])]
    return [_pick(f, checkpoint) for f in folders]


def _pick(folder: Path, checkpoint: str) -> Path:
    best = folder / "best.pt"
    return best if checkpoint == "best" and best.is_file() else folder / "latest.pt"


@functools.lru_cache(maxsize=256)
def _digest(path: str, version: tuple[int, int, int, int]) -> str:
    """SHA-256 of one version of a file; ``version`` (inode, size, mtime and ctime in ns) only keys the memo,
    so each checkpoint is read once per version however many pages ask."""
    return workspace.file_digest(Path(path))


def checkpoint_key(run_id: str) -> str:
    """A cache key from the content (SHA-256) of the run's checkpoint(s): caches of generators and their
    samples are keyed by it, so a resumed run, or a checkpoint copied over or rewritten within one mtime
    tick, is never served stale. Each file version is hashed once (memo keyed by inode, size, mtime, ctime)."""
    parts = []
    for path in checkpoint_files(run_id):
        try:
            stat = path.stat()
            digest = _digest(str(path), (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
        except FileNotFoundError:  # not written yet, or removed between the stat and the read
            digest = "missing"
        parts.append(f"{path}:{digest}")
    return "|".join(parts)


def write_status(folder: Path, status: str, step: int, total_steps: int, **extra: Any) -> None:
    """Record a run's state in its folder (atomic, not fsynced: it is rewritten every few seconds); its
    display name and archived flag are kept."""
    kept = {k: v for k, v in read_status(folder).items() if k in LABEL_KEYS}
    workspace.atomic_write_json(
        Path(folder) / STATUS_FILE,
        {
            **kept,
            "status": status,
            "step": int(step),
            "total_steps": int(total_steps),
            "updated": workspace.now_iso(),
            **extra,
        },
        durable=False,
    )


def read_status(folder: Path) -> dict[str, Any]:
    """A run folder's status.json ({} when absent or unreadable)."""
    try:
        return json.loads((Path(folder) / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _job_statuses() -> dict[str, str]:
    """run id -> status of the latest train job for it (interrupted when its worker died)."""
    from medgan.jobs.store import list_jobs

    statuses: dict[str, str] = {}
    for job in reversed(list_jobs(kind="train")):  # oldest first, so the newest job wins
        if "run_id" in job.params:
            statuses[job.params["run_id"]] = job.status
    return statuses


def job_status(run_id: str) -> str | None:
    """Status of the newest train job of a run (None for runs trained in the foreground): one query."""
    from medgan.jobs.store import latest_job

    job = latest_job("train", run_id=run_id)
    return job.status if job is not None else None


def run_info(run_id: str, job_status: str | None = None) -> RunInfo:
    """One run's summary from its folder (and its job's status when given)."""
    folder = run_dir(run_id)
    config = json.loads((folder / "config.json").read_text())
    state = read_status(folder)
    status = state.get("status", "created")
    if job_status in ("queued", "interrupted", "failed", "cancelled") or (
        job_status == "running" and status != "done"
    ):
        status = job_status
    created = state.get("created") or datetime.fromtimestamp(
        (folder / "config.json").stat().st_mtime, UTC
    ).isoformat(timespec="seconds")
    return RunInfo(
        id=run_id,
        dataset=config["dataset"],
        arch=config["arch"],
        resolution=config["resolution"],
        status=status,
        created=created,
        step=int(state.get("step", 0)),
        total_steps=int(state.get("total_steps", config.get("steps", 0))),
        dataset_id=config.get("dataset_id", ""),
        has_checkpoint=all(p.is_file() for p in checkpoint_files(run_id, config)),
        name=state.get("name", ""),
        archived=bool(state.get("archived", False)),
    )


def list_runs(archived: bool = False) -> list[RunInfo]:
    """All runs in the workspace, newest first (the shipped demo is not listed; pickers add it); archived
    runs only with ``archived``."""
    root = workspace.home() / "runs"
    if not root.is_dir():
        return []
    jobs = _job_statuses()
    runs = [run_info(p.name, jobs.get(p.name)) for p in root.iterdir() if (p / "config.json").is_file()]
    return sorted(
        [r for r in runs if archived or not r.archived], key=lambda r: (r.created, r.id), reverse=True
    )


def set_run_label(run_id: str, name: str | None = None, archived: bool | None = None) -> None:
    """Give a run a display name and/or (un)archive it; kept in status.json beside what the trainer writes."""
    folder = run_dir(run_id)
    state = read_status(folder)
    if name is not None:
        state["name"] = name.strip()
    if archived is not None:
        state["archived"] = bool(archived)
    workspace.atomic_write_json(folder / STATUS_FILE, state)
