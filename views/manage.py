"""Manage: rename, archive or delete runs, dataset versions, Turing studies and exports. Deleting shows exactly
what goes (files with sizes, database rows) and what stays, and asks once more."""

import streamlit as st

from medgan import manage
from medgan.data.store import list_datasets
from medgan.export import list_exports
from medgan.runs import list_runs
from medgan.turing.store import list_studies
from medgan.ui.widgets import pick

st.title("Manage")


def actions(kind: str, target: str, current_name: str, archived: bool | None = None) -> None:
    """Rename, (un)archive and two-step delete of one item."""
    key = f"manage_{kind}"
    name_col, rename_col = st.columns([4, 1], vertical_alignment="bottom")
    new_name = name_col.text_input("New name", current_name, key=f"{key}_name_{target}")
    if rename_col.button("Rename", key=f"{key}_rename", disabled=new_name.strip() in ("", current_name)):
        try:
            manage.rename(kind, target, new_name)
        except (ValueError, OSError) as exc:
            st.error(str(exc))
        else:
            st.rerun()
    archive_col, delete_col, _ = st.columns([1, 1, 3])
    if archived is not None and archive_col.button(
        "Show again" if archived else "Archive",
        key=f"{key}_archive",
        help="archived items are hidden from pickers; files stay",
    ):
        manage.archive(kind, target, not archived)
        st.rerun()
    if delete_col.button("Delete...", key=f"{key}_delete"):
        st.session_state[f"{key}_plan"] = manage.plan_delete(kind, target)
    plan = st.session_state.get(f"{key}_plan")
    if plan is None or plan.target != target:
        return
    removed = "\n".join(f"- {line}" for line in plan.removes)
    kept = "\n".join(f"- {line}" for line in plan.keeps)
    st.warning(
        f"**Deleting removes:**\n{removed}" + (f"\n\n**Stays / changes:**\n{kept}" if kept else ""),
        icon=":material/delete:",
    )
    if plan.blocked:
        st.error(f"Cannot delete now: {plan.blocked}.")
    elif st.button("Yes, delete exactly this", type="primary", key=f"{key}_confirm"):
        try:
            manage.delete(plan)
        except (ValueError, OSError) as exc:
            st.error(str(exc))
        else:
            del st.session_state[f"{key}_plan"]
            st.toast(f"Deleted {kind} {target}.")
            st.rerun()


run_tab, data_tab, study_tab, export_tab = st.tabs(["Runs", "Datasets", "Turing studies", "Exports"])
with run_tab:
    runs = {r.id: r for r in list_runs(archived=True)}
    if runs:
        run = pick(
            "Run",
            runs,
            "manage_run_pick",
            lambda r: (
                f"{r.name or r.id} ({r.arch}, {r.dataset}, {r.status})"
                + (" · archived" if r.archived else "")
            ),
        )
        actions("run", run.id, run.name or run.id, run.archived)
    else:
        st.info("No runs.")
with data_tab:
    versions = {d.id: d for d in list_datasets(all_versions=True, archived=True)}
    if versions:
        info = pick(
            "Dataset version",
            versions,
            "manage_dataset_pick",
            lambda d: f"{d.label} ({d.n_images} images, {d.created})" + (" · archived" if d.archived else ""),
        )
        actions("dataset", info.id, info.name, info.archived)
with study_tab:
    studies = {s.id: s for s in list_studies()}
    if studies:
        study = pick("Study", studies, "manage_study_pick", lambda s: f"{s.name} (run {s.run_id})")
        actions("study", study.id, study.name)
    else:
        st.info("No Turing studies.")
with export_tab:
    exports = {p.name: p for p in list_exports()}
    if exports:
        name = st.selectbox("Export", list(exports), key="manage_export_pick")
        actions("export", name, name.removesuffix(".zip"))
    else:
        st.info("No exports.")
