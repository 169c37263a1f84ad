"""Home: what the app does, the demo that is ready, and where to start."""

import streamlit as st

from medgan.data.store import list_datasets
from medgan.runs import list_runs
from medgan.ui.widgets import ensure_demo
from medgan.workspace import REPO_ROOT

st.title("MedGAN Studio")
st.caption("Train, inspect, test and export GANs for medical images. Research and education, not diagnosis.")
ensure_demo()

datasets, runs = list_datasets(), list_runs()
c1, c2, c3 = st.columns(3)
c1.metric("Datasets", len(datasets), help="the phantom demo is made on first start; no download, no patient data")
c2.metric("Your training runs", len(runs), help="until you train one, pages use the shipped demo generator")
c3.metric("Running now", sum(r.status == "running" for r in runs))

steps, sample = st.columns([3, 2])
with steps:
    st.markdown("**The workflow**, each step a page (left):")
    st.page_link("pages/data.py", label="1. Data: the phantom demo is ready; import DICOM, PNG/JPEG/TIFF, NIfTI, "
                 "MedMNIST .npz or a ZIP", icon=":material/folder_open:")
    st.page_link("pages/train.py", label="2. Train: pick an architecture, start a background run, watch it live",
                 icon=":material/model_training:")
    st.page_link("pages/gallery.py", label="3. Gallery: real and synthetic side by side, nearest training image",
                 icon=":material/photo_library:")
    st.page_link("pages/turing.py", label="4. Turing test: blinded real-vs-synthetic reader study",
                 icon=":material/visibility:")
    st.page_link("pages/evaluate.py", label="5. Evaluate: image quality, FID/KID, memorization audit",
                 icon=":material/analytics:")
    st.page_link("pages/embeddings.py", label="6. Embeddings: t-SNE / UMAP of real vs synthetic",
                 icon=":material/scatter_plot:")
    st.page_link("pages/classifier.py", label="7. Classifier: does synthetic augmentation help a diagnosis model?",
                 icon=":material/fact_check:")
    st.page_link("pages/export.py", label="8. Export: a labelled synthetic dataset ZIP (PNG / DICOM)",
                 icon=":material/archive:")
with sample:
    st.image(str(REPO_ROOT / "checkpoints" / "demo" / "samples.png"),
             caption="Shipped demo generator (trained on the phantom): top row 'mass', bottom row 'normal'")
