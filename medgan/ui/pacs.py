"""PACS widgets: the Data page's "From PACS" import tab and the Export page's "Send to PACS" button.

Searches are one quick QIDO-RS request and run in the page; imports and sends are background jobs. The login
comes from the environment or the ``[pacs]`` table of ``.streamlit/secrets.toml`` (never typed into a page,
never stored in the job database); ``[pacs] url`` is the default server address.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from medgan.dicomweb import PacsError, PacsLogin, connect, pacs_secrets, search_studies
from medgan.jobs import tasks
from medgan.ui.jobs import job_status


def _server_url(key: str) -> str:
    return st.text_input(
        "DICOMweb base URL",
        value=str(pacs_secrets().get("url", "")),
        key=f"{key}_url",
        placeholder="http://pacs:8042/dicom-web",
    ).strip()


def _search(key: str, url: str) -> None:
    """Search filters and button; the hits are kept in the session state under ``{key}_hits``."""
    c1, c2, c3 = st.columns(3)
    filters = {
        "ModalitiesInStudy": c1.text_input("Modality", key=f"{key}_modality", placeholder="CR"),
        "PatientID": c2.text_input("Patient ID", key=f"{key}_patient"),
        "StudyDate": c3.text_input("Study date (YYYYMMDD or range A-B)", key=f"{key}_date"),
    }
    if st.button("Search", key=f"{key}_search", disabled=not url):
        try:
            hits = search_studies(
                connect(url, PacsLogin.configured()), {k: v for k, v in filters.items() if v.strip()}
            )
        except PacsError as exc:
            st.error(str(exc))
            hits = []
        st.session_state[f"{key}_hits"] = hits


def pacs_import_tab(
    key: str, import_options: Callable[[str], dict], run_import: Callable[[str, dict], None]
) -> None:
    """Server URL, study search, a pick of studies and the page's import options; queues a ``dicomweb:`` import."""
    url = _server_url(key)
    _search(key, url)
    hits = st.session_state.get(f"{key}_hits", [])
    if not hits:
        st.caption("Search the server, then pick the studies to import.")
        return
    st.dataframe(pd.DataFrame([vars(h) for h in hits]), hide_index=True, key=f"{key}_table")
    chosen = st.multiselect(
        "Studies to import",
        [h.uid for h in hits],
        default=[h.uid for h in hits],
        key=f"{key}_studies",
        format_func={h.uid: f"{h.patient_id} {h.date} {h.modalities} {h.description}" for h in hits}.get,
    )
    try:
        options = import_options(key)
    except ValueError as exc:
        options = None
        st.info(str(exc))
    if st.button("Import from PACS", key=f"{key}_import", disabled=not chosen or options is None):
        run_import(f"dicomweb:{url}", {**options, "studies": chosen})


def _has_dicom(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return any(name.startswith("dicom/") for name in archive.namelist())


def send_to_pacs(key: str, exports: list[Path]) -> None:
    """Pick a DICOM export and a server; "Send to PACS" queues a STOW-RS job and shows what the server accepted."""
    dicom_exports = [p for p in exports if _has_dicom(p)]
    if not dicom_exports:
        return
    st.subheader("Send to PACS")
    left, right = st.columns(2)
    chosen = left.selectbox("Export", dicom_exports, format_func=lambda p: p.name, key=f"{key}_zip")
    with right:
        url = _server_url(key)
    job = tasks.latest("send")
    if st.button("Send to PACS", key=f"{key}_go", disabled=not url or tasks.active(job)):
        tasks.start("send", {"path": str(chosen), "url": url}, f"send {chosen.name} to {url}")
        job = tasks.latest("send")
    job = job_status(job, f"{key}_job", "Send to PACS")
    if job is not None and job.status == "done":
        result = job.result
        st.success(
            f"{result['url']} accepted {result['accepted']} instance(s) of {result['name']}; "
            f"{len(result['refused'])} refused"
        )
        for name, reason in result["refused"]:
            st.warning(f"{name}: {reason}")
