"""Embeddings: t-SNE or UMAP of real and synthetic images on the evaluation features; select points
(click or lasso) to see their images."""

import streamlit as st

from medgan import workspace
from medgan.data.imageops import to_pil
from medgan.embed import METHODS, Embedding, embed
from medgan.metrics.figures import embedding_scatter
from medgan.ui.widgets import admin_gate, ensure_demo, run_picker


@st.cache_data(show_spinner="Computing the embedding (cached afterwards)...", max_entries=8)
def _embedding(run_id: str, n: int, features: str, method: str, seed: int, home: str) -> Embedding:
    return embed(run_id, n=n, features=features, method=method, seed=seed)


st.title("Embeddings")
admin_gate("embeddings")
ensure_demo()
controls = st.columns([2, 1, 1, 1, 1])
with controls[0]:
    run_id = run_picker("embeddings_run")
n = int(controls[1].number_input("Images per source", 10, 5000, 200, step=50, key="embeddings_n"))
method = controls[2].selectbox("Method", list(METHODS), format_func=METHODS.get, key="embeddings_method")
features = controls[3].selectbox("Features", ["domain", "inception"], key="embeddings_features")
colour = controls[4].selectbox("Colour by", ["source", "label"], key="embeddings_colour")
try:
    result = _embedding(run_id, n, features, method, 0, str(workspace.home()))
except (ValueError, OSError, KeyError) as exc:
    st.error(f"Cannot embed run {run_id!r}: {exc}")
    st.stop()
counts = result.points["source"].value_counts()
st.caption(f"{result.method} of {counts.get('real', 0)} real and {counts.get('synthetic', 0)} synthetic images on features: "
           f"{result.extractor}{' · from cache' if result.cached else ''}")
event = st.plotly_chart(embedding_scatter(result, colour), on_select="rerun", selection_mode=("points", "lasso"),
                        key="embeddings_chart")
rows = [int(p["customdata"][0]) for p in (event.selection.points if event else [])][:24]
if rows:
    st.markdown(f"**Selected images** ({len(rows)} shown)")
    for column, row in zip(st.columns(min(len(rows), 8)) * 3, rows, strict=False):
        point = result.points.iloc[row]
        column.image(to_pil(result.images[row]), caption=f"{point['source']} · {point['label']} · #{point['index']}")
else:
    st.caption("Click a point or draw a lasso to see the images.")
