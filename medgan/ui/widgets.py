"""Widgets used on several pages, so each page stays a short list of calls."""

from __future__ import annotations

import streamlit as st

from medgan.data.phantom import ensure_demo_dataset
from medgan.data.store import DatasetInfo, list_datasets


@st.cache_resource(show_spinner="Preparing the phantom demo dataset (first start only)...")
def _demo_ready(home: str) -> str:
    """Create the demo dataset once per workspace and server process."""
    return ensure_demo_dataset().id


def ensure_demo() -> None:
    """Make sure the demo dataset exists in the current workspace."""
    from medgan.workspace import home

    _demo_ready(str(home()))


def dataset_picker(key: str, label: str = "Dataset") -> DatasetInfo:
    """A select box over registered datasets (the demo is created first if missing)."""
    ensure_demo()
    datasets = list_datasets()
    names = [d.name for d in datasets]
    default = st.session_state.get("active_dataset")
    index = names.index(default) if default in names else 0
    choice = st.selectbox(label, names, index=index, key=key,
                          format_func=lambda n: f"{n} ({next(d.n_images for d in datasets if d.name == n)} images)")
    st.session_state["active_dataset"] = choice
    return next(d for d in datasets if d.name == choice)


def admin_gate(key: str) -> None:
    """Stop the page unless the admin password, when one is configured, was entered in this session.

    The password comes from ``st.secrets["admin_password"]`` or ``MEDGAN_ADMIN_PASSWORD``; without one the
    page is open (a single-user install).
    """
    from medgan.turing.access import admin_password, password_matches

    expected = admin_password(st.secrets)
    if expected is None or st.session_state.get("admin_ok"):
        return
    typed = st.text_input("Admin password", type="password", key=f"{key}_admin_password")
    if not typed:
        st.info("This page is for the study owner: enter the admin password.", icon=":material/lock:")
        st.stop()
    if not password_matches(typed, expected):
        st.error("Wrong admin password.", icon=":material/block:")
        st.stop()
    st.session_state["admin_ok"] = True
    st.rerun()


def run_picker(key: str, label: str = "Generator run") -> str:
    """A select box over generator runs that can be sampled: the shipped ``demo`` and finished runs."""
    from medgan.runs import DEMO_RUN, list_runs

    runs = {run.id: run for run in list_runs() if run.status == "done"}
    return st.selectbox(label, [DEMO_RUN, *runs], key=key, format_func=lambda r: (
        "demo (shipped checkpoint)" if r == DEMO_RUN else f"{r} ({runs[r].arch}, {runs[r].dataset})"))
