"""Home: what the app does and where to start."""

import streamlit as st

from medgan.ui.widgets import ensure_demo

st.title("MedGAN Studio")
st.caption("Train, inspect, test and export GANs for medical images. Research and education, not diagnosis.")
ensure_demo()
st.markdown(
    """
1. **Data**: the phantom demo dataset is ready; upload DICOM, PNG, JPEG, TIFF, NIfTI, MedMNIST `.npz` or a ZIP.
2. **Train**: pick an architecture and start a background run; watch losses and samples live.
3. **Gallery** and **Turing test**: compare real and synthetic images; run blinded reader studies.
4. **Evaluate** and **Embeddings**: image quality, FID/KID, memorization, t-SNE/UMAP.
5. **Classifier**: does synthetic augmentation help a diagnostic classifier?
6. **Export**: a labelled synthetic dataset as a ZIP with manifest and datasheet.
"""
)
