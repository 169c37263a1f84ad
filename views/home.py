"""Home: what the app does, the demo that is ready, and where to start."""

import streamlit as st

from medgan.data.store import list_datasets
from medgan.runs import list_runs
from medgan.ui.widgets import ensure_demo
from medgan.workspace import REPO_ROOT

STEPS = [  # (page, link text, icon), in workflow order
    (
        "views/data.py",
        "1. Data: the demo is ready; import DICOM, PNG, TIFF, NIfTI, MedMNIST or a ZIP",
        ":material/folder_open:",
    ),
    (
        "views/train.py",
        "2. Train: pick an architecture, start a background run, watch it live",
        ":material/model_training:",
    ),
    (
        "views/gallery.py",
        "3. Gallery: real and synthetic side by side, nearest training image",
        ":material/photo_library:",
    ),
    ("views/turing.py", "4. Turing test: blinded real-vs-synthetic reader study", ":material/visibility:"),
    ("views/evaluate.py", "5. Evaluate: image quality, FID/KID, memorization audit", ":material/analytics:"),
    ("views/embeddings.py", "6. Embeddings: t-SNE / UMAP of real vs synthetic", ":material/scatter_plot:"),
    (
        "views/classifier.py",
        "7. Classifier: does synthetic augmentation help a diagnosis model?",
        ":material/fact_check:",
    ),
    ("views/export.py", "8. Export: a labelled synthetic dataset ZIP (PNG / DICOM)", ":material/archive:"),
]

st.title("MedGAN Studio")
st.caption("Train, inspect, test and export GANs for medical images. Research and education, not diagnosis.")
ensure_demo()

datasets, runs = list_datasets(), list_runs()
c1, c2, c3 = st.columns(3)
c1.metric(
    "Datasets", len(datasets), help="the phantom demo is made on first start; no download, no patient data"
)
c2.metric("Your training runs", len(runs), help="until you train one, pages use the shipped demo generator")
c3.metric("Running now", sum(r.status == "running" for r in runs))

steps, sample = st.columns([3, 2])
with steps:
    st.markdown("**The workflow**, each step a page (left):")
    for path, label, icon in STEPS:
        st.page_link(path, label=label, icon=icon)
with sample:
    st.image(
        str(REPO_ROOT / "checkpoints" / "demo" / "samples.png"),
        caption="Shipped demo generator (trained on the phantom): top row 'mass', bottom row 'normal'",
    )
