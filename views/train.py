"""Train: pick data and an architecture, start a background run, watch its losses and samples live."""

import streamlit as st

from medgan.runs import list_runs
from medgan.train.config import (
    DEFAULT_ARCH,
    TRACK_EVERY,
    Augment,
    Conditioning,
    architectures,
    gpu_available,
    preset_overrides,
)
from medgan.train.monitor import describe
from medgan.ui.live import forget, live_run
from medgan.ui.widgets import dataset_picker

ACTIVE = ("queued", "running")
RESUMABLE = ("interrupted", "cancelled", "failed")

st.title("Train")
gpu = gpu_available()
if not gpu:
    st.info(
        "No GPU found: training runs on this machine's CPU with small presets (32-64 px, small networks). "
        "Expect minutes per thousand steps; a GPU machine uses the same code with larger presets."
    )

dataset = dataset_picker("train_dataset")
left, right = st.columns(2)
arch = left.selectbox(
    "Architecture", architectures(), index=architectures().index(DEFAULT_ARCH), key="train_arch"
)
defaults = preset_overrides(arch, gpu)
resolution = right.selectbox("Resolution (px)", [32, 64, 128, 256], index=1, key="train_resolution")
modes = [Conditioning.NONE.value] + (
    [Conditioning.CONDITIONAL.value, Conditioning.PER_CLASS.value] if dataset.labelled else []
)
default_mode = defaults.get("conditional", Conditioning.NONE.value) if dataset.labelled else "none"
conditional = left.radio(
    "Classes",
    modes,
    index=modes.index(default_mode),
    key=f"train_cond_{arch}",
    horizontal=True,
    help="one model for all images, one class-conditional model, or one model per class",
)
augments = [a.value for a in Augment]
augment = right.selectbox(
    "Augmentation",
    augments,
    index=augments.index(defaults.get("augment", Augment.NONE.value)),
    key=f"train_augment_{arch}",
    help="DiffAugment or ADA (adaptive, target 0.6) help small datasets",
)
batch_size = left.number_input("Batch size", 4, 512, defaults["batch_size"], key=f"train_batch_{arch}")
steps = right.number_input("Steps", 10, 1_000_000, defaults["steps"], step=100, key=f"train_steps_{arch}")
track_every = left.number_input(
    "Track FID every (steps, 0 = off)",
    0,
    100_000,
    TRACK_EVERY,
    step=50,
    key="train_track_every",
    help="256 samples from fixed noise against held-out images",
)
track_features = right.selectbox(
    "Tracked FID features",
    ["domain", "inception"],
    key="train_track_features",
    help="domain: small CNN trained on this dataset; inception: FID Inception-v3 (slower)",
)
ema = st.checkbox("Keep an EMA copy of the generator (samples from it)", value=True, key="train_ema")
amp = st.checkbox(
    "Mixed precision (bf16 autocast on GPUs and on CPUs with AMX or AVX512-BF16; off: fp32)",
    value=True,
    key="train_amp",
)
start = st.button("Start training", type="primary", key="train_start")


if start:
    from medgan.jobs.training import start_training
    from medgan.train.config import default_config

    try:
        config = default_config(
            dataset.name,
            arch,
            gpu,
            resolution=resolution,
            conditional=conditional,
            augment=augment,
            batch_size=int(batch_size),
            steps=int(steps),
            ema=ema,
            amp=amp,
            track_every=int(track_every),
            track_features=track_features,
        )
        job_id, run_id = start_training(config)
    except ValueError as exc:
        st.error(f"Could not start: {exc}")
    else:
        st.session_state["train_pick"] = run_id  # watch the new run
        st.success(f"Started run {run_id} (job {job_id}); it keeps running if you close this page.")

st.subheader("Runs")
runs = list_runs()
if not runs:
    st.caption("No runs yet. The shipped demo generator is used elsewhere until you train one.")
    st.stop()
run_id = st.selectbox("Watch run", [r.id for r in runs], key="train_pick")


def run_actions(run_id: str, status: str) -> None:
    """Cancel and Resume for the watched run, drawn inside the live view so they follow its status."""
    cancel_col, resume_col, _ = st.columns([1, 1, 4])
    if cancel_col.button("Cancel", disabled=status not in ACTIVE, key="train_cancel"):
        from medgan.jobs.training import cancel_run

        cancel_run(run_id)
        forget(run_id)
        st.toast(f"Asked {run_id} to stop; it saves a checkpoint first.")
        st.rerun(scope="fragment")
    if resume_col.button("Resume", disabled=status not in RESUMABLE, key="train_resume"):
        from medgan.jobs.training import resume_run

        try:
            resume_run(run_id)
        except ValueError as exc:
            st.error(str(exc))
        else:
            forget(run_id)
            st.toast(f"Resuming {run_id} from its latest checkpoint.")
            st.rerun(scope="fragment")


@st.fragment(run_every=10.0)
def runs_table() -> None:
    """Every run's status and step, re-read every 10 s: the only view that reads every run's files."""
    st.dataframe(
        [
            {
                "run": r.id,
                "dataset": r.dataset,
                "architecture": r.arch,
                "px": r.resolution,
                "status": r.status,
                "step": f"{r.step}/{r.total_steps}",
                "created": r.created,
            }
            for r in list_runs()
        ],
        hide_index=True,
        width="stretch",
    )


@st.fragment(run_every=2.0)
def live_view(run_id: str) -> None:
    """The watched run's actions, progress, curves and latest sample grid, every 2 s, from the view that
    every session watching this run shares (:mod:`medgan.ui.live`): nothing of the run is kept per session."""
    view = live_run(run_id)
    run_actions(run_id, view.state.status)
    st.progress(view.state.fraction, text=describe(view.state))
    curves, grid = st.columns([3, 2])
    if view.loss is not None:
        curves.plotly_chart(view.loss, key=f"train_curves_{run_id}")
        if view.fid is not None:
            curves.plotly_chart(view.fid, key=f"train_fid_{run_id}")
            if view.fid_note:
                curves.warning(view.fid_note)
    else:
        curves.caption("No metrics yet (the first line appears after a few steps).")
    if view.sample is not None:
        grid.image(view.sample, caption="Samples from fixed noise (rows: classes when conditional)")


runs_table()
live_view(run_id)
