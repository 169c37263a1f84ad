"""A job's live status on a page: progress with ETA and a Cancel button, both inside one refreshing fragment.

When the job ends the whole page reruns once, so the page reads the job's result (from the jobs table or
the files the job wrote); a reload finds the same job again through :func:`medgan.jobs.tasks.latest`.
"""

from __future__ import annotations

import streamlit as st

from medgan.jobs import store
from medgan.jobs.views import status_line

REFRESH_SECONDS = 1.5


@st.fragment(run_every=REFRESH_SECONDS)
def _live(job_id: str, key: str) -> None:
    job = store.get_job(job_id)
    if job.status not in store.ACTIVE:
        st.rerun(scope="app")  # the page now shows the result (or the error) outside the fragment
    bar, button = st.columns([5, 1], vertical_alignment="center")
    bar.progress(job.progress, text=status_line(job))
    if button.button("Cancel", key=f"{key}_cancel_{job_id}", disabled=job.cancel_requested):
        store.request_cancel(job_id)
        st.rerun(scope="fragment")


def job_status(job: store.Job | None, key: str, what: str = "Job") -> store.Job | None:
    """Show ``job``: live while queued or running; its error when it failed; returns it (re-read)."""
    if job is None:
        return None
    if job.status in store.ACTIVE:
        _live(job.id, key)
        return job
    if job.status == store.JobStatus.FAILED:
        st.error(f"{what} failed: {job.error}", icon=":material/error:")
    elif job.status in (store.JobStatus.CANCELLED, store.JobStatus.INTERRUPTED):
        st.warning(f"{what} {job.status}: {job.error or job.message}", icon=":material/warning:")
    return job
