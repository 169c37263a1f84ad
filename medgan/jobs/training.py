"""Training as a background job: ``start_training`` creates the run and queues a ``train`` job whose
function, :func:`run_train_job`, trains (or resumes) the run in the detached worker."""

from __future__ import annotations

from typing import Any

from medgan import runs
from medgan.data.store import DatasetInfo, DatasetNotFound, dataset_version
from medgan.jobs import store
from medgan.jobs.context import JobContext
from medgan.train.config import TrainConfig, load_config
from medgan.train.trainer import create_run, train_run


def start_training(config: TrainConfig, launch: bool = True) -> tuple[str, str]:
    """Create a run for ``config`` and queue its job (worker started unless ``launch`` is False);
    returns ``(job_id, run_id)``."""
    run_id = create_run(config)
    title = f"{config.arch} on {config.dataset}, {config.resolution} px, {config.steps} steps"
    params = {"run_id": run_id}
    job_id = store.submit("train", params, title) if launch else store.create_job("train", params, title)
    return job_id, run_id


def job_for_run(run_id: str) -> store.Job | None:
    """The newest train job of a run (None for runs trained in the foreground)."""
    return store.latest_job("train", run_id=run_id)


def run_train_job(ctx: JobContext) -> dict[str, Any]:
    """Job function for kind ``train``: train the run named in ``params['run_id']`` (resumes if it can)."""

    def progress(step: int, total: int, stats: dict[str, float]) -> None:
        ctx.progress(step / total, f"step {step}/{total}, {stats.get('images_per_sec', 0):.0f} images/s")

    return train_run(ctx.params["run_id"], progress_fn=progress, abort_fn=ctx.cancelled)


def cancel_run(run_id: str) -> bool:
    """Ask the run's active job to stop (it saves a checkpoint first); False when none is active."""
    job = job_for_run(run_id)
    if job is None or job.status not in store.ACTIVE:
        return False
    store.request_cancel(job.id)
    return True


def training_data(run_id: str) -> DatasetInfo:
    """The dataset version a run trains on; ``ValueError`` saying why when it was deleted or has changed."""
    config = load_config(runs.run_dir(run_id))
    try:
        return dataset_version(config.dataset, config.dataset_id, config.dataset_fingerprint)
    except DatasetNotFound as exc:
        raise ValueError(f"run {run_id} cannot resume: {exc.args[0]}") from exc


def resume_run(run_id: str, launch: bool = True) -> str:
    """Continue an unfinished run in the background from its latest checkpoint (refused when its data is
    gone); returns the job id."""
    training_data(run_id)
    job = job_for_run(run_id)
    if job is not None and job.status in store.ACTIVE:
        raise ValueError(f"run {run_id} is already {job.status}")
    if job is not None and job.status in store.RESUMABLE:
        store.resume(job.id, launch=launch)
        return job.id
    params, title = {"run_id": run_id}, f"resume {run_id}"
    return store.submit("train", params, title) if launch else store.create_job("train", params, title)
