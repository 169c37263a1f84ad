"""Jobs: every background task of the lab (training, comparisons, imports, evaluations, maps, studies,
exports) with progress, ETA, cancel and resume; it refreshes itself."""

import json

import streamlit as st

from medgan.jobs import store
from medgan.jobs.kinds import JOB_KINDS
from medgan.jobs.views import job_row, status_line
from medgan.ui.widgets import pick

SHOWN = 200

st.title("Jobs")
st.caption(
    "Long tasks run in background worker processes: closing a page does not stop them. Training and "
    "classifier comparisons wait for the device; the shorter tasks have their own queue."
)
kinds = st.multiselect("Kinds", sorted(JOB_KINDS), key="jobs_kinds", placeholder="all kinds")


def _actions(job: store.Job) -> None:
    cancel, resume, _ = st.columns([1, 1, 4])
    if cancel.button(
        "Cancel", key="jobs_cancel", disabled=job.status not in store.ACTIVE or job.cancel_requested
    ):
        store.request_cancel(job.id)
        st.rerun(scope="fragment")
    if resume.button(
        "Resume",
        key="jobs_resume",
        disabled=job.status not in store.RESUMABLE,
        help="training continues from its latest checkpoint; other tasks start again",
    ):
        try:
            if job.kind == "train":
                from medgan.jobs.training import resume_run

                resume_run(job.params["run_id"])
            else:
                store.resume(job.id)
        except ValueError as exc:
            st.error(str(exc))
        else:
            st.rerun(scope="fragment")


@st.fragment(run_every=2.0)
def jobs_view(kinds: list[str]) -> None:
    """The jobs table and the chosen job's status, actions, result and log, re-read every 2 s."""
    jobs = [job for job in store.list_jobs() if not kinds or job.kind in kinds][:SHOWN]
    if not jobs:
        st.info("No jobs yet: start a training run, an import, an evaluation or an export on its page.")
        return
    st.dataframe(
        [job_row(job) for job in jobs],
        hide_index=True,
        width="stretch",
        column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0)},
    )
    by_id = {job.id: job for job in jobs}
    job = pick("Job", by_id, "jobs_pick", lambda j: f"{j.id} · {j.kind} · {j.title}")
    st.progress(job.progress, text=status_line(job))
    _actions(job)
    if job.result:
        st.code(json.dumps(job.result, indent=2, default=str)[:5000], language="json")
    log = job.folder / "worker.log"
    if log.is_file():
        with st.expander("Worker log (last lines)"):
            st.code("".join(log.read_text(errors="replace").splitlines(keepends=True)[-30:]) or "(empty)")


jobs_view(kinds)
