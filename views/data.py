"""Data: import images (upload, ZIP or server folder) and look at a dataset: classes, previews, histograms, DICOM."""

from pathlib import Path

import pandas as pd
import streamlit as st

from medgan.data import summary
from medgan.data.dicom import CT_WINDOW_PRESETS, check_keyword, header_table, parse_window, window_previews
from medgan.data.frames import UnreadableFile
from medgan.data.grouping import GroupingOptions, duplicate_lines, load_duplicates, load_report
from medgan.data.imageops import to_pil
from medgan.data.patients import IMAGE_LEVEL_WARNING, folder_labels, folder_names, image_level, preview_groups
from medgan.data.readers import ReadOptions
from medgan.data.store import list_datasets, load_images, load_manifest, load_skipped
from medgan.data.uploads import save_uploads, upload_names
from medgan.jobs import tasks
from medgan.ui.jobs import job_status
from medgan.ui.pacs import pacs_import_tab
from medgan.ui.widgets import dataset_picker
from medgan.workspace import allowed_data_roots, is_under_allowed_root

st.title("Data")
st.caption(
    "DICOM, PNG/JPEG/TIFF, NIfTI, MedMNIST .npz, or a ZIP of them. Unreadable files are listed, never fatal."
)


def import_options(key: str, names: list[str]) -> dict:
    """The import settings shared by uploads and server folders, as keyword arguments of ``ingest``;
    ``names`` (the files' relative paths) preview the patient rule."""
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Dataset name", key=f"{key}_name")
    labels = c2.selectbox(
        "Labels from",
        ["folders", "tag", "none"],
        key=f"{key}_labels",
        format_func={"folders": "sub-folder names", "tag": "a DICOM attribute", "none": "none"}.get,
    )
    resolution = c3.selectbox("Cache resolution (px)", [32, 64, 128, 256], index=2, key=f"{key}_res")
    c4, c5, c6 = st.columns(3)
    channels = c4.selectbox("Channels", ["auto", "gray", "rgb"], key=f"{key}_channels")
    window = c5.text_input("Window CENTER,WIDTH (DICOM/NIfTI; blank: header)", key=f"{key}_window")
    multiframe = c6.selectbox(
        "Multi-frame / volumes",
        ["frames", "stack"],
        key=f"{key}_multiframe",
        format_func={"frames": "each frame an image", "stack": "3 frames as channels (2.5D)"}.get,
    )
    if labels == "tag":
        labels = "tag:" + check_keyword(st.text_input("DICOM keyword", "BodyPartExamined", key=f"{key}_tag"))
    c7, c8 = st.columns([3, 1], vertical_alignment="bottom")
    pattern = c7.text_input(
        "Patient ids from file names: auto, none, or a regex (first group = id)",
        "auto",
        key=f"{key}_patients",
        help="Searched in each file's path without extension, e.g. "
        r"^[^/]+/(p\d+)_ for mass/p0012_scan_3. DICOM PatientID and CSV ids win.",
    )
    drop = c8.checkbox(
        "Drop duplicate copies",
        key=f"{key}_drop",
        help="Keep one image per duplicate group; a group whose copies have different labels is "
        "dropped whole. Unticked: copies are kept, each group in one split.",
    )
    if names:
        table, rule = preview_groups(names, pattern.strip() or "auto", folder_labels(names))
        (st.warning if rule.image_level else st.caption)(rule.describe())
        st.dataframe(table, hide_index=True, height=180)
    replace = st.checkbox(
        "If the name exists, import as its next version (runs keep the version they used)",
        key=f"{key}_replace",
    )
    if not name.strip():
        raise ValueError("give the dataset a name")
    return {
        "name": name.strip(),
        "labels": labels,
        "resolution": resolution,
        "channels": channels,
        "replace": replace,
        "options": ReadOptions(window=parse_window(window), multiframe=multiframe),
        "grouping": GroupingOptions(patient_pattern=pattern.strip() or "auto", drop_duplicates=drop),
    }


def run_import(source, options: dict, label: str = "", unpack: bool = False) -> None:
    """Queue the import as a background job: its progress shows below, and it goes on if the page closes.
    ``unpack``: ``source`` is a saved upload whose ZIPs the job extracts first; ``label`` names it."""
    params = {"source": str(source), **options, **({"unpack": True} if unpack else {})}
    tasks.start("import", params, f"import {options['name']!r} from {label or Path(source).name}")


def show_import(job) -> None:
    """The latest import: live progress, its error, or (once) its result, which becomes the shown dataset."""
    job = job_status(job, "data_import", "Import")
    if job is None or job.status != "done":
        return
    result = job.result
    if st.session_state.get("data_import_seen") != job.id:
        st.session_state["data_import_seen"] = job.id
        # show it below
        st.session_state["active_dataset"] = st.session_state["data_dataset"] = result["name"]
    version = f" (version {result['version']})" if result.get("version", 1) > 1 else ""
    reused = (
        f" (files unchanged since {result['reused_from']!r}: its cache was reused)"
        if result["reused_from"]
        else ""
    )
    st.success(
        f"Imported {result['name']!r}{version}: {result['n_images']} images, {len(result['skipped'])} file(s) "
        f"skipped (see the ingestion report below){reused}."
    )


with st.expander("Import images", expanded=len(list_datasets()) <= 1):
    upload_tab, folder_tab, pacs_tab = st.tabs(["Upload files or a ZIP", "Folder on the server", "From PACS"])
    with upload_tab:
        files = st.file_uploader(
            "Files or ZIP (class folders inside a ZIP become labels; one ZIP per class works too)",
            accept_multiple_files=True,
            key="data_upload",
        )
        try:
            upload_options = import_options(
                "data_up", upload_names((f.name, f.getvalue()) for f in files or [])
            )
        except ValueError as exc:
            upload_options = None
            st.info(str(exc))
        if st.button("Import upload", key="data_upload_import", disabled=not files or upload_options is None):
            try:
                run_import(
                    save_uploads((f.name, f.getvalue()) for f in files),
                    upload_options,
                    ", ".join(f.name for f in files),
                    unpack=True,
                )
            except ValueError as exc:
                st.error(str(exc))
    with folder_tab:
        roots = allowed_data_roots()
        st.caption(
            "Allowed data roots: "
            + ", ".join(f"`{r}`" for r in roots)
            + " (set MEDGAN_DATA_ROOTS to change)."
        )
        folder = st.text_input("Folder path", key="data_folder")
        try:
            allowed = bool(folder) and is_under_allowed_root(folder)
            folder_options = import_options("data_fo", folder_names(Path(folder)) if allowed else [])
        except ValueError as exc:
            folder_options = None
            st.info(str(exc))
        if st.button(
            "Import folder", key="data_folder_import", disabled=not folder or folder_options is None
        ):
            if not is_under_allowed_root(folder):
                st.error(
                    f"{folder} is outside the allowed data roots; copy the data under one of them or ask the "
                    "administrator to add its folder to MEDGAN_DATA_ROOTS."
                )
            else:
                run_import(folder, folder_options)
    with pacs_tab:
        pacs_import_tab("data_pacs", lambda key: import_options(key, []), run_import)  # ids from PatientID
show_import(tasks.latest("import"))

info = dataset_picker("data_dataset")
manifest = load_manifest(info)
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Images", info.n_images)
m2.metric("Classes", len(info.classes))
m3.metric("Patients", manifest["patient_id"].nunique())
m4.metric("Channels x cache", f"{info.channels} x {info.base_resolution} px")
m5.metric("Skipped files", info.n_skipped)
if info.description:
    st.caption(info.description)
report = load_report(info)
if image_level(manifest):
    st.warning(IMAGE_LEVEL_WARNING)
if report:
    st.caption(
        report["patients"]["description"]
        + (f" Channels: {report['channels']}." if "channels" in report else "")
    )

table = summary.class_table(manifest)
left, right = st.columns(2)
left.dataframe(table, hide_index=True)
right.plotly_chart(summary.class_figure(table), key="data_classes")

st.subheader("Preview")
images = load_images(info)
for label, rows in summary.preview_rows(manifest, per_class=10).items():
    st.image([to_pil(images.images[i], info.stack) for i in rows], width=80, caption=[label] * len(rows))

left, right = st.columns(2)
left.plotly_chart(summary.size_figure(manifest), key="data_sizes")
right.plotly_chart(summary.intensity_figure(summary.intensity_histogram(info)), key="data_intensity")

dicom_files = summary.dicom_sources(info)
if dicom_files:
    st.subheader("DICOM")
    chosen = st.selectbox("File", dicom_files, key="data_dicom_file")
    path = summary.source_path(info, chosen)
    header, windows = st.columns([3, 2])
    header.dataframe(pd.DataFrame(header_table(path)), hide_index=True, height=360)
    try:
        previews = window_previews(path)
        windows.caption("CT window presets (center/width in HU); the first tile is the image as imported.")
        labels = ["as imported"] + [f"{n} {c:g}/{w:g}" for n, (c, w) in CT_WINDOW_PRESETS.items()]
        windows.image([to_pil(p) for p in previews.values()], width=110, caption=labels)
    except UnreadableFile as exc:
        windows.info(f"{chosen}: {exc}")

st.subheader("Ingestion report")
if report:
    dup = report["duplicates"]
    text, warnings = duplicate_lines(dup)
    st.markdown(text.replace("Duplicates", "**Duplicates**", 1))
    for warning in warnings:
        st.warning(warning)
    if dup["n_groups"]:
        st.dataframe(load_duplicates(info), hide_index=True, height=240)
skipped = load_skipped(info)
if skipped.empty:
    st.write("Every file was read.")
else:
    st.dataframe(skipped, hide_index=True)
