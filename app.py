"""MedGAN Studio entry point: ``streamlit run app.py``. Page config, navigation and the owner gate only."""

import streamlit as st

from medgan.ui.guard import owner_gate, workspace_guard

st.set_page_config(page_title="MedGAN Studio", page_icon=":material/biotech:", layout="wide")

if st.query_params.get("rater"):
    # A rater's link opens the rating screen and nothing else: no navigation to other pages.
    page = st.navigation([st.Page("pages/rate.py", title="Rating session", icon=":material/visibility:")],
                         position="hidden")
else:
    page = st.navigation(
        [
            st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
            st.Page("pages/data.py", title="Data", icon=":material/folder_open:"),
            st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
            st.Page("pages/gallery.py", title="Gallery", icon=":material/photo_library:"),
            st.Page("pages/turing.py", title="Turing test", icon=":material/visibility:"),
            st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
            st.Page("pages/embeddings.py", title="Embeddings", icon=":material/scatter_plot:"),
            st.Page("pages/classifier.py", title="Classifier", icon=":material/fact_check:"),
            st.Page("pages/export.py", title="Export", icon=":material/archive:"),
            st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
            st.Page("pages/jobs.py", title="Jobs", icon=":material/pending_actions:"),
            st.Page("pages/manage.py", title="Manage", icon=":material/inventory_2:"),
        ]
    )
    owner_gate()  # before any owner page runs: a page added above is protected without a line of its own
with workspace_guard():
    page.run()
