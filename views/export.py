"""Export: a labelled synthetic dataset ZIP (PNG and/or DICOM) with manifest and datasheet."""

from datetime import datetime

import streamlit as st

from medgan.export import FORMATS, default_export_path, list_exports, read_datasheet
from medgan.jobs import tasks
from medgan.ui.jobs import job_status
from medgan.ui.pacs import send_to_pacs
from medgan.ui.widgets import run_picker

st.title("Export a synthetic dataset")
st.caption(
    "A ZIP of generated images, one folder per class, with manifest.csv and DATASHEET.md. "
    "Synthetic data for research and education, not for diagnosis."
)

run_id = run_picker("export_run")
col_n, col_per_class, col_format, col_seed = st.columns(4)
n = int(col_n.number_input("Images", min_value=1, max_value=100_000, value=100, step=50, key="export_n"))
per_class = col_per_class.checkbox(
    "Per class",
    value=True,
    key="export_per_class",
    help="N images for every class; otherwise N in total, split evenly",
)
fmt = col_format.selectbox(
    "Format",
    FORMATS,
    key="export_format",
    format_func={"png": "PNG", "dicom": "DICOM (Secondary Capture)", "both": "PNG + DICOM"}.get,
)
seed = int(col_seed.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="export_seed"))

job = tasks.latest("export", run_id=run_id)  # exports run as background jobs; a reload finds them
if run_id and st.button("Export", type="primary", key="export_go", disabled=tasks.active(job)):
    target = default_export_path(run_id, n, per_class, fmt, seed)
    tasks.start(
        "export",
        {"run_id": run_id, "n": n, "per_class": per_class, "fmt": fmt, "seed": seed, "out": str(target)},
        f"export {n}{' per class' if per_class else ''} {fmt} of {run_id}",
    )
    job = tasks.latest("export", run_id=run_id)
job = job_status(job, "export", "Export")
if job is not None and job.status == "done":
    st.session_state["export_last"] = job.result["name"]
    st.success(f"Latest export of {run_id}: wrote {job.result['name']} ({job.result['bytes'] / 1e6:.2f} MB)")

st.subheader("Exports")
exports = list_exports()
if not exports:
    st.info("No exports yet in this workspace.")
for path in exports:
    info, button = st.columns([4, 1])
    modified = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    info.write(f"**{path.name}**: {path.stat().st_size / 1e6:.2f} MB, {modified}")
    button.download_button(
        "Download",
        data=path.read_bytes,
        file_name=path.name,
        mime="application/zip",
        key=f"export_dl_{path.name}",
        icon=":material/download:",
    )
    if path.name == st.session_state.get("export_last"):
        with st.expander(f"DATASHEET.md of {path.name}", expanded=False):
            st.markdown(read_datasheet(path))

send_to_pacs("export_pacs", exports)
