"""The app's long tasks as background jobs: import, evaluation, embeddings, Turing-study creation, export.

Each ``run_<kind>_job(ctx)`` calls the library function with a progress callback that also honours Cancel,
and returns a small JSON result that the page reads back from the jobs table, after a reload too; the
full results stay where the library writes them (dataset folder, run results folder, study tables, ZIP).
:func:`start` queues one with a readable title.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medgan.jobs import store
from medgan.jobs.context import JobContext

PROGRESS_EVERY_SECONDS = 0.5


def reporter(ctx: JobContext) -> Callable[[float, str], None]:
    """``report(fraction, message)``: raises :class:`JobCancelled` after a cancel request, and writes
    progress to the database at most every :data:`PROGRESS_EVERY_SECONDS` (and at the end)."""
    last = [0.0]

    def report(fraction: float, message: str = "") -> None:
        ctx.check_cancelled()
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_SECONDS or fraction >= 1.0:
            last[0] = now
            ctx.progress(fraction, message)

    return report


def run_import_job(ctx: JobContext) -> dict[str, Any]:
    """Kind ``import``: ``ingest(source, name, ...)``; params are ``ingest``'s keywords (options as a dict).

    With ``unpack`` true, ``source`` is a browser upload saved by :func:`medgan.data.uploads.save_uploads`,
    and its ZIPs are extracted here first (a bad ZIP fails the job with a message naming it)."""
    from medgan.data.grouping import GroupingOptions
    from medgan.data.ingest import ingest
    from medgan.data.pacs import ingest_dicomweb, is_dicomweb_source
    from medgan.data.readers import ReadOptions
    from medgan.dicomweb import PacsLogin

    params = dict(ctx.params)
    params["grouping"] = GroupingOptions(**(params.pop("grouping", None) or {}))
    options = params.pop("options", None) or {}
    if options.get("window"):
        options["window"] = tuple(options["window"])
    report = reporter(ctx)
    source, importer = params.pop("source"), ingest
    if params.pop("unpack", False):
        from medgan.data.uploads import unpack_uploads

        source = str(unpack_uploads(Path(source), progress=lambda message: report(0.0, message)))
    if is_dicomweb_source(source):  # a PACS: studies chosen on the page, login from the environment/secrets
        importer = functools.partial(
            ingest_dicomweb, studies=params.pop("studies"), login=PacsLogin.configured()
        )
    result = importer(
        source,
        params.pop("name"),
        options=ReadOptions(**options),
        progress=lambda done, total, msg: report(done / max(total, 1), f"{done}/{total} files: {msg}"),
        **params,
    )
    return result.summary()


def run_evaluate_job(ctx: JobContext) -> dict[str, Any]:
    """Kind ``evaluate``: quality, distribution and memorization of ``run_id`` (written to its results folder)."""
    from medgan.metrics.report import evaluate

    p = ctx.params
    results = evaluate(
        p["run_id"],
        n=p.get("n"),
        features=p.get("features", "domain"),
        seed=p.get("seed", 0),
        progress=reporter(ctx),
    )
    fid = next((r for r in results["distribution"] if r["metric"] == "FID"), {})
    return {
        "run_id": p["run_id"],
        "created": results["created"],
        "step": results["step"],
        "fid": fid.get("value"),
        "extractor": results["extractor"],
    }


def run_embed_job(ctx: JobContext) -> dict[str, Any]:
    """Kind ``embed``: t-SNE / UMAP of ``run_id``, stored in its results folder (the result names the file)."""
    from medgan.embed import embed

    p = ctx.params
    report = reporter(ctx)
    report(0.05, "loading the generator, computing features and the projection")
    result = embed(p["run_id"], n=p["n"], features=p["features"], method=p["method"], seed=p.get("seed", 0))
    report(1.0, "done")
    return {
        "run_id": p["run_id"],
        "n_points": len(result.points),
        "extractor": result.extractor,
        "path": result.path,
    }


def run_study_job(ctx: JobContext) -> dict[str, Any]:
    """Kind ``study``: create a blinded Turing study from a :class:`StudySpec` as a dict."""
    from medgan.turing import store as studies
    from medgan.turing.study import StudySpec, create_study

    report = reporter(ctx)
    report(0.05, "sampling synthetic images and choosing real ones")
    study, raters = create_study(StudySpec(**ctx.params))
    report(1.0, "stored")
    return {
        "study_id": study.id,
        "name": study.name,
        "raters": [r.name for r in raters],
        "n_images": len(studies.image_ids(study.id)),
    }


def run_export_job(ctx: JobContext) -> dict[str, Any]:
    """Kind ``export``: a synthetic dataset ZIP at ``params['out']``."""
    from medgan.export import export_synthetic

    p = ctx.params
    report = reporter(ctx)
    path = export_synthetic(
        p["run_id"],
        p["n"],
        p["per_class"],
        p["fmt"],
        Path(p["out"]),
        seed=p.get("seed", 0),
        progress=lambda done, total: report(done / max(total, 1), f"{done} / {total} images"),
    )
    return {"run_id": p["run_id"], "path": str(path), "name": path.name, "bytes": path.stat().st_size}


def run_send_job(ctx: JobContext) -> dict[str, Any]:
    """Kind ``send``: store the DICOM files of export ``params['path']`` on the PACS at ``params['url']``."""
    from medgan.dicomweb import PacsLogin, send_export

    p, report = ctx.params, reporter(ctx)
    result = send_export(
        Path(p["path"]),
        p["url"],
        PacsLogin.configured(),
        progress=lambda done, total, msg: report(done / max(total, 1), f"{done}/{total} instances {msg}"),
    )
    return {
        "url": p["url"],
        "name": Path(p["path"]).name,
        "accepted": len(result.accepted),
        "refused": result.refused,
    }


def start(kind: str, params: dict[str, Any], title: str) -> str:
    """Queue a task job and start its worker; returns the job id."""
    params = {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for k, v in params.items()}
    return store.submit(kind, params, title)


def latest(kind: str, **match: Any) -> store.Job | None:
    """The newest job of ``kind`` whose params contain ``match`` (what a page shows after a reload)."""
    return store.latest_job(kind, **match)


def active(job: store.Job | None) -> bool:
    """True while ``job`` is queued or running."""
    return job is not None and job.status in store.ACTIVE
