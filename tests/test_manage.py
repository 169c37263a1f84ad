"""Manage: deleting removes exactly what the plan listed, archiving hides, renaming keeps ids."""

from __future__ import annotations

import pytest

from medgan import manage, runs, workspace
from medgan.data.store import DatasetNotFound, get_dataset, list_datasets
from medgan.jobs import store as jobs
from medgan.jobs.training import resume_run


def _files() -> set[str]:
    home = workspace.home()
    return {
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and not p.name.startswith("medgan.db")
    }


def test_deleting_a_run_removes_exactly_its_folder_and_jobs(lab):
    own = jobs.create_job("train", {"run_id": lab}, "train it")
    jobs.finish(own, jobs.JobStatus.CANCELLED, error="cancelled by request")
    (jobs.get_job(own).folder / "worker.log").write_text("log")
    other = jobs.create_job("export", {"run_id": "demo"})
    jobs.finish(other, jobs.JobStatus.DONE, result={})
    plan = manage.plan_delete("run", lab)
    assert plan.removes[0].startswith(f"runs/{lab} (") and "MB)" in plan.removes[0]
    assert plan.removes[1] == f"job {own} (cancelled) and its log" and not plan.blocked
    before = _files()
    manage.delete(plan)
    gone = before - _files()
    assert gone == {f for f in before if f.startswith((f"runs/{lab}/", f"jobs/{own}/"))} and gone
    assert [j.id for j in jobs.list_jobs()] == [other] and runs.list_runs(archived=True) == []


def test_a_dataset_plan_names_the_runs_that_can_no_longer_resume(lab):
    demo = get_dataset("demo-phantom")
    plan = manage.plan_delete("dataset", demo.id)
    assert any(line.startswith(f"run {lab} keeps its checkpoints") for line in plan.keeps)
    before = _files()
    manage.delete(plan)
    assert before - _files() == {f for f in before if f.startswith(f"datasets/{demo.id}/")}
    with pytest.raises(DatasetNotFound):
        get_dataset(demo.id)
    with pytest.raises(ValueError, match="was deleted"):
        resume_run(lab, launch=False)
    assert runs.list_runs()[0].has_checkpoint  # still usable downstream


def test_a_changed_target_or_a_running_one_is_refused(lab):
    plan = manage.plan_delete("run", lab)
    (runs.run_dir(lab) / "samples" / "extra.png").write_bytes(b"x" * 10_000)
    with pytest.raises(ValueError, match="changed since the confirmation"):
        manage.delete(plan)
    runs.write_status(runs.run_dir(lab), "running", 4, 8)
    assert "cancel it first" in manage.plan_delete("run", lab).blocked


def test_archive_and_rename(lab):
    other = get_dataset("other")
    manage.archive("dataset", other.id)
    assert [d.name for d in list_datasets()] == ["demo-phantom"] and get_dataset(other.id).archived
    manage.rename("dataset", other.id, "renamed")
    assert get_dataset("renamed").id == other.id
    manage.rename("run", lab, "first try")
    manage.archive("run", lab)
    runs.write_status(runs.run_dir(lab), "cancelled", 3, 8)  # the trainer's status writes keep both
    (info,) = runs.list_runs(archived=True)
    assert (info.name, info.archived) == ("first try", True) and runs.list_runs() == []
