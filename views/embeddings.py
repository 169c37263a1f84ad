"""Embeddings: t-SNE or UMAP of real and synthetic images on the evaluation features; select points
(click or lasso) to see their images."""

import streamlit as st

from medgan import runs
from medgan.data.imageops import to_pil
from medgan.embed import METHODS, Embedding, load_embedding
from medgan.jobs import tasks
from medgan.metrics.figures import embedding_scatter
from medgan.ui.jobs import job_status
from medgan.ui.widgets import ensure_demo, run_picker


@st.cache_data(max_entries=4)
def _embedding(path: str, method: str, extractor: str) -> Embedding:
    return load_embedding(path, method, extractor)


st.title("Embeddings")
ensure_demo()
controls = st.columns([2, 1, 1, 1, 1])
with controls[0]:
    run_id = run_picker("embeddings_run")
n = int(controls[1].number_input("Images per source", 10, 5000, 200, step=50, key="embeddings_n"))
method = controls[2].selectbox("Method", list(METHODS), format_func=METHODS.get, key="embeddings_method")
features = controls[3].selectbox("Features", ["domain", "inception"], key="embeddings_features")
colour = controls[4].selectbox("Colour by", ["source", "label"], key="embeddings_colour")
params = {
    "run_id": run_id,
    "n": n,
    "features": features,
    "method": method,
    "seed": 0,
    "checkpoint": runs.checkpoint_key(run_id),  # a resumed run's new checkpoint needs a new map
}
job = tasks.latest("embed", **params)  # computed by a background job, only when asked; a reload finds it
if st.button("Compute the map", type="primary", key="embeddings_go", disabled=tasks.active(job)):
    tasks.start("embed", params, f"{METHODS[method]} of {run_id} ({n} images per source, {features})")
    job = tasks.latest("embed", **params)
job_status(job, "embeddings", "Embedding")
if job is None or job.status != "done":
    if job is None:
        st.info("Choose a run and the settings, then press Compute the map (it runs in the background).")
    st.stop()
try:
    result = _embedding(job.result["path"], method, job.result["extractor"])
except OSError as exc:
    st.error(f"The stored map of run {run_id!r} is unreadable ({exc}); compute it again.")
    st.stop()
counts = result.points["source"].value_counts()
st.caption(
    f"{result.method} of {counts.get('real', 0)} real and {counts.get('synthetic', 0)} synthetic images on features: "
    f"{result.extractor}{' · from cache' if result.cached else ''}"
)
event = st.plotly_chart(
    embedding_scatter(result, colour),
    on_select="rerun",
    selection_mode=("points", "lasso"),
    key="embeddings_chart",
)
rows = [int(p["customdata"][0]) for p in (event.selection.points if event else [])][:24]
stack = runs.run_is_stack(run_id)
if rows:
    st.markdown(f"**Selected images** ({len(rows)} shown)")
    for column, row in zip(st.columns(min(len(rows), 8)) * 3, rows, strict=False):
        point = result.points.iloc[row]
        column.image(
            to_pil(result.images[row], stack),
            caption=f"{point['source']} · {point['label']} · #{point['index']}",
        )
else:
    st.caption("Click a point or draw a lasso to see the images.")
