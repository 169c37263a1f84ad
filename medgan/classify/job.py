"""The "compare" background job: run a comparison with progress and cancel, save its files in the job folder."""

from __future__ import annotations

from medgan.classify.config import CompareConfig
from medgan.classify.experiment import run_comparison
from medgan.classify.report import load_result, markdown_table, save_result
from medgan.classify.train import TrainingCancelled
from medgan.jobs.context import JobCancelled, JobContext


def run_compare_job(ctx: JobContext) -> dict:
    """Job function for kind "compare": ``ctx.params`` is a :class:`CompareConfig` as a dict.

    Writes comparison.json, metrics.csv and table.md into ``ctx.folder`` and returns a short summary
    (folder, markdown table, wall time); the page reads the full result from the folder.
    """
    config = CompareConfig.from_dict(ctx.params)
    try:
        result = run_comparison(config, progress=ctx.progress, cancelled=ctx.cancelled)
    except TrainingCancelled as exc:
        raise JobCancelled(f"comparison {ctx.id} was cancelled") from exc
    path = save_result(result, ctx.folder)
    return {
        "folder": str(ctx.folder),
        "result_file": str(path),
        "table_markdown": markdown_table(result),
        "wall_seconds": result["wall_seconds"],
    }


def start_comparison(config: CompareConfig) -> str:
    """Queue a comparison as a background job (a detached worker runs it); returns the job id."""
    from medgan.jobs import store

    title = f"{config.dataset}: {config.model}, {config.folds} folds, runs {','.join(config.runs)}"
    return store.submit("compare", config.to_dict(), title)


def job_result(job) -> dict | None:
    """The full saved result of a finished "compare" job (None while it has none)."""
    if not job.result or "folder" not in job.result:
        return None
    return load_result(job.result["folder"])
