"""Widgets used on several pages, so each page stays a short list of calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from medgan.data.phantom import ensure_demo_dataset
from medgan.data.store import DatasetInfo, list_datasets

K = TypeVar("K")
T = TypeVar("T")


def pick(label: str, items: dict[K, T], key: str, describe: Callable[[T], str]) -> T:
    """A selectbox over ``items`` (id -> object), each shown as ``describe(object)``; the chosen object."""
    return items[st.selectbox(label, list(items), key=key, format_func=lambda i: describe(items[i]))]


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
    choice = st.selectbox(
        label,
        names,
        index=index,
        key=key,
        format_func=lambda n: "{0.label} ({0.n_images} images)".format(
            next(d for d in datasets if d.name == n)
        ),
    )
    st.session_state["active_dataset"] = choice
    return next(d for d in datasets if d.name == choice)


def _run_label(run) -> str:
    return f"{run.id} ({run.arch}, {run.dataset}, {run.status}, step {run.step}/{run.total_steps})"


def run_picker(key: str, label: str = "Generator run", dataset: DatasetInfo | None = None) -> str:
    """A select box over generator runs that can be sampled: the shipped ``demo`` and every run with a
    checkpoint, whatever its status (a cancelled or interrupted run's checkpoint is as good as a finished one's).

    With ``dataset``, only runs trained on it are offered; runs of other datasets need a toggle and bring a
    loud warning, as does a run trained on an older version of the dataset. A radio chooses the checkpoint
    (best: lowest FID tracked while training, the default; latest); the result is the generator reference
    (``RUN_ID`` or ``RUN_ID@latest``, see :func:`medgan.runs.parse_ref`).
    """
    from medgan.data.phantom import DEMO_NAME
    from medgan.runs import CHECKPOINTS, DEMO_RUN, generator_ref, list_runs

    runs = {run.id: run for run in list_runs() if run.has_checkpoint}
    options = [DEMO_RUN, *runs]
    if dataset is not None:
        same = ([DEMO_RUN] if dataset.name == DEMO_NAME else []) + [
            r for r in runs if runs[r].dataset == dataset.name
        ]
        others = len(options) - len(same)
        if not (
            others and st.toggle(f"Also show runs trained on other datasets ({others})", key=f"{key}_all")
        ):
            options = same or options
    choice = st.selectbox(
        label,
        options,
        key=key,
        format_func=lambda r: "demo (shipped checkpoint)" if r == DEMO_RUN else _run_label(runs[r]),
    )
    trained_on = DEMO_NAME if choice == DEMO_RUN else runs[choice].dataset if choice else None
    if dataset is not None and choice and trained_on != dataset.name:
        st.warning(
            f"Run {choice} was trained on {trained_on!r}, not on {dataset.name!r}: its images do not "
            "belong with this dataset's real images.",
            icon=":material/warning:",
        )
    elif dataset is not None and choice in runs and runs[choice].dataset_id not in ("", dataset.id):
        st.warning(
            f"Run {choice} was trained on an older version of {dataset.name!r} than {dataset.label}.",
            icon=":material/warning:",
        )
    checkpoint = st.radio(
        "Checkpoint",
        CHECKPOINTS,
        key=f"{key}_checkpoint",
        horizontal=True,
        disabled=choice in (None, DEMO_RUN),
        help="best: lowest FID tracked while training; latest: the last saved step",
    )
    return generator_ref(choice, checkpoint) if choice else choice
