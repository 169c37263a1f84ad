"""MedGAN Studio entry point: ``streamlit run app.py``. Page config, navigation, owner gate, malloc cap."""

import streamlit as st

from medgan.malloc_arenas import limit_malloc_arenas
from medgan.ui.guard import owner_gate, workspace_guard

limit_malloc_arenas()  # script runs come and go in threads: two shared arenas, not one each (bench/server.md)

st.set_page_config(page_title="MedGAN Studio", page_icon=":material/biotech:", layout="wide")

if st.query_params.get("rater"):
    # A rater's link opens the rating screen and nothing else: no navigation to other pages.
    page = st.navigation(
        [st.Page("views/rate.py", title="Rating session", icon=":material/visibility:")], position="hidden"
    )
else:
    page = st.navigation(
        [
            st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
            st.Page("views/data.py", title="Data", icon=":material/folder_open:"),
            st.Page("views/train.py", title="Train", icon=":material/model_training:"),
            st.Page("views/gallery.py", title="Gallery", icon=":material/photo_library:"),
            st.Page("views/turing.py", title="Turing test", icon=":material/visibility:"),
            st.Page("views/evaluate.py", title="Evaluate", icon=":material/analytics:"),
            st.Page("views/embeddings.py", title="Embeddings", icon=":material/scatter_plot:"),
            st.Page("views/classifier.py", title="Classifier", icon=":material/fact_check:"),
            st.Page("views/export.py", title="Export", icon=":material/archive:"),
            st.Page("views/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
            st.Page("views/jobs.py", title="Jobs", icon=":material/pending_actions:"),
            st.Page("views/manage.py", title="Manage", icon=":material/inventory_2:"),
        ]
    )
    owner_gate()  # before any owner page runs: a page added above is protected without a line of its own
with workspace_guard():
    page.run()
