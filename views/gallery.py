"""Gallery: real and synthetic images side by side per class, with each synthetic image's nearest real
training image (to spot copies). Click the magnifier under an image to enlarge it."""

import numpy as np
import streamlit as st

from medgan import runs, workspace
from medgan.data.imageops import to_pil
from medgan.data.store import DatasetNotFound, dataset_of, get_dataset
from medgan.generate import load_generator
from medgan.turing.gallery import ClassGallery, class_gallery
from medgan.ui.widgets import ensure_demo, run_picker


@st.cache_resource(show_spinner="Loading the generator...", max_entries=2)
def _generator(run_id: str, home: str, checkpoint: str):
    return load_generator(run_id)


@st.cache_data(show_spinner="Sampling and searching nearest training images...", max_entries=32)
def _gallery(
    run_id: str, home: str, checkpoint: str, dataset_id: str, label: str | None, n: int, seed: int
) -> ClassGallery:
    return class_gallery(_generator(run_id, home, checkpoint), get_dataset(dataset_id), label, n, seed)


@st.dialog("Enlarged view", width="large")
def _zoom(title: str, image: np.ndarray, stack: bool) -> None:
    st.image(to_pil(image, stack), caption=title, width="stretch")


def _row(images: np.ndarray, key: str, captions: list[str], stack: bool) -> None:
    """A row of images (a 2.5D stack's middle slice in grey), each with a button to enlarge it."""
    for i, (column, image) in enumerate(zip(st.columns(len(images)), images, strict=True)):
        column.image(to_pil(image, stack), caption=captions[i], width="stretch")
        if column.button(":material/zoom_in:", key=f"{key}_{i}", help="Enlarge"):
            _zoom(captions[i], image, stack)


def _show(gallery: ClassGallery, key: str) -> None:
    st.markdown("**Real** (training split)")
    _row(gallery.real, f"{key}_real", [f"real {i + 1}" for i in range(len(gallery.real))], gallery.stack)
    st.markdown("**Synthetic**")
    flags = gallery.copy_flags
    _row(
        gallery.synthetic,
        f"{key}_syn",
        [f"synthetic {i + 1}" + (" ⚠ possible copy" if flag else "") for i, flag in enumerate(flags)],
        gallery.stack,
    )
    st.markdown("**Nearest real training image** of each synthetic image (RMS grey-level distance, 0-255)")
    _row(
        gallery.nearest,
        f"{key}_nn",
        [f"row {row}, d = {d:.1f}" for row, d in zip(gallery.nearest_rows, gallery.distances, strict=True)],
        gallery.stack,
    )
    held = gallery.held_out_distances
    st.caption(
        f"Yardstick: held-out real images lie {np.median(held):.1f} (median, n = {len(held)}) from their "
        f"nearest training image; synthetic images closer than {gallery.copy_threshold:.1f} (1st "
        f"percentile) or exact copies are flagged: {int(flags.sum())} of {len(flags)}."
    )


st.title("Gallery")
ensure_demo()
controls = st.columns([2, 1, 1])
with controls[0]:
    run_id = run_picker("gallery_run")
n_images = controls[1].slider("Images per class", 2, 12, 6, key="gallery_n")
seed = int(controls[2].number_input("Seed", 0, 2**31 - 1, 0, key="gallery_seed"))

home = str(workspace.home())
try:
    checkpoint = runs.checkpoint_key(run_id)  # caches follow the checkpoint, so a resumed run is not stale
    generator = _generator(run_id, home, checkpoint)
    dataset = dataset_of(generator.config)
except (FileNotFoundError, ValueError, DatasetNotFound) as exc:
    st.error(f"Cannot show run {run_id!r}: {exc}")
    st.stop()
st.caption(
    f"Run {run_id}: {generator.arch}, {generator.resolution} px, step {generator.step}, "
    f"trained on {dataset.name}. Same seed, same images."
)
classes = generator.class_names or [None]
for label in classes:
    if label is not None:
        st.subheader(f"Class: {label}")
    _show(_gallery(run_id, home, checkpoint, dataset.id, label, n_images, seed), key=f"gallery_{label}")
