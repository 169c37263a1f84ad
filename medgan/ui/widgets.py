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
