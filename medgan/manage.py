"""Deleting, archiving and renaming what the workspace holds: runs, dataset versions, Turing studies, exports.

Deletion is two steps: :func:`plan_delete` says exactly what would go (files with sizes, database rows) and
what stays behind, and :func:`delete` removes exactly that plan's items after checking that nothing changed
in between (so a confirmation never removes more than it showed).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from medgan import audit, runs, workspace
from medgan.data import store as datasets
from medgan.jobs import store as jobs
from medgan.turing import store as studies

KINDS = ("run", "dataset", "study", "export")


@dataclass(frozen=True)
class Plan:
    """What deleting ``kind`` ``target`` removes (``removes``), what remains or changes (``keeps``), and why it
    cannot be done now (``blocked``, empty when it can)."""

    kind: str
    target: str
    removes: list[str] = field(default_factory=list)
    keeps: list[str] = field(default_factory=list)
    blocked: str = ""
    paths: tuple[Path, ...] = ()
    job_ids: tuple[str, ...] = ()


def _size(path: Path) -> tuple[int, int]:
    """(files, bytes) under ``path``."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _describe(path: Path) -> str:
    n, size = _size(path)
    return f"{path.relative_to(workspace.home())} ({n} file{'s' * (n != 1)}, {size / 1e6:.2f} MB)"


def _run_plan(run_id: str) -> Plan:
    info = next((r for r in runs.list_runs(archived=True) if r.id == run_id), None)
    if info is None:
        raise FileNotFoundError(f"no run {run_id!r}")
    own = [job for job in jobs.list_jobs(kind="train") if job.params.get("run_id") == run_id]
    blocked = (
        f"run {run_id} is {info.status}: cancel it first" if info.status in ("queued", "running") else ""
    )
    folders = [runs.run_dir(run_id)] + [job.folder for job in own]
    used = [s.name for s in studies.list_studies() if runs.parse_ref(s.run_id)[0] == run_id]
    keeps = [f"Turing studies made from it keep their stored images: {', '.join(used)}"] if used else []
    keeps.append("exported ZIPs of this run stay in exports/ (delete them on the Exports tab)")
    removes = [_describe(folders[0]) + ": config, metrics, samples, checkpoints, evaluations"]
    removes += [f"job {job.id} ({job.status}) and its log" for job in own]
    return Plan("run", run_id, removes, keeps, blocked, tuple(folders), tuple(job.id for job in own))


def _dataset_plan(dataset_id: str) -> Plan:
    info = datasets.get_dataset(dataset_id)
    trained = [r for r in runs.list_runs(archived=True) if r.dataset_id == info.id]
    active = [r.id for r in trained if r.status in ("queued", "running")]
    blocked = f"runs {', '.join(active)} are training on it: cancel them first" if active else ""
    keeps = [
        f"run {r.id} keeps its checkpoints (sampling, export, studies) but can no longer resume or be "
        "evaluated against this data"
        for r in trained
    ]
    others = [
        d.label
        for d in datasets.list_datasets(all_versions=True, archived=True)
        if d.name == info.name and d.id != info.id
    ]
    keeps += [f"other versions of {info.name!r} stay: {', '.join(others)}"] if others else []
    removes = [
        f"dataset {info.label} ({info.n_images} images), its database row and " + _describe(info.folder)
    ]
    return Plan("dataset", info.id, removes, keeps, blocked, (info.folder,))


def _study_plan(study_id: str) -> Plan:
    study = studies.get_study(study_id)
    counts = studies.study_row_counts(study.id)
    removes = [
        f"study {study.name!r}: {counts['turing_raters']} raters (their links stop working), "
        f"{counts['turing_images']} images with their truth, {counts['turing_ratings']} ratings"
    ]
    keeps = ["download the ratings CSV first if you need them: deleted ratings cannot be restored"]
    return Plan("study", study.id, removes, keeps)


def _export_plan(name: str) -> Plan:
    path = workspace.subdir("exports") / Path(name).name
    if not path.is_file():
        raise FileNotFoundError(f"no export named {name!r}")
    return Plan("export", path.name, [_describe(path)], ["the run it was made from stays"], "", (path,))


def plan_delete(kind: str, target: str) -> Plan:
    """What deleting ``target`` (a run id, dataset version id, study id or export file name) would remove."""
    planners = {"run": _run_plan, "dataset": _dataset_plan, "study": _study_plan, "export": _export_plan}
    if kind not in planners:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    return planners[kind](target)


def delete(plan: Plan) -> None:
    """Remove exactly what ``plan`` listed; refuses when it is blocked or the target changed since."""
    if plan.blocked:
        raise ValueError(f"cannot delete: {plan.blocked}")
    if plan_delete(plan.kind, plan.target) != plan:
        raise ValueError(f"{plan.kind} {plan.target} changed since the confirmation was shown; look again")
    if plan.kind == "dataset":
        datasets.delete_dataset(plan.target)
    elif plan.kind == "study":
        studies.delete_study(plan.target)
    for job_id in plan.job_ids:
        jobs.delete_job(job_id)
    for path in plan.paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    if plan.kind != "dataset":  # the dataset store records its own deletions
        audit.record(f"delete {plan.kind}", f"{plan.kind}:{plan.target}", removes=plan.removes)


def rename(kind: str, target: str, new_name: str) -> None:
    """Rename: a run's display name (its id stays), a dataset version (as that name's next version), a study,
    or an export file (``.zip`` kept)."""
    if kind == "dataset":
        datasets.rename_dataset(target, new_name)  # recorded in the audit log by the dataset store
        return
    if kind == "run":
        runs.set_run_label(target, name=new_name)
    elif kind == "study":
        studies.rename_study(target, new_name)
    elif kind == "export":
        folder = workspace.subdir("exports")
        new = folder / (Path(new_name.strip()).name.removesuffix(".zip") + ".zip")
        if new.name == ".zip" or new.exists():
            raise ValueError(f"cannot rename to {new.name!r}: empty or already taken")
        (folder / Path(target).name).rename(new)
    else:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    audit.record(f"rename {kind}", f"{kind}:{target}", name=new_name.strip())


def archive(kind: str, target: str, archived: bool = True) -> None:
    """Hide a run or dataset version from pickers and lists (files kept), or show it again."""
    if kind == "run":
        runs.set_run_label(target, archived=archived)
        audit.record("archive run" if archived else "unarchive run", f"run:{target}")
    elif kind == "dataset":
        datasets.set_archived(target, archived)
    else:
        raise ValueError(f"only runs and datasets can be archived, not {kind!r}")
