"""Compare: chosen runs side by side: one table (status, speed, losses, best tracked FID with its floor, last
evaluation) with the best run marked, and each metric's curves over steps."""

import streamlit as st

from medgan.comparison import CURVE_METRICS, comparison_table, curves_figure, run_metrics
from medgan.runs import list_runs

st.title("Compare runs")
runs = list_runs()
if not runs:
    st.info("No runs yet: train some on the Train page.")
    st.stop()
labels = {r.id: f"{r.name or r.id} ({r.arch}, {r.dataset}, {r.status})" for r in runs}
chosen = st.multiselect(
    "Runs", list(labels), default=list(labels)[:2], format_func=labels.get, key="compare_runs"
)
if not chosen:
    st.info("Choose two or more runs.")
    st.stop()
table = comparison_table(chosen)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "best": st.column_config.CheckboxColumn(
            "best", help="lowest tracked FID (only among runs of one dataset)"
        )
    },
)
if table["dataset"].nunique() > 1:
    st.warning(
        "These runs were trained on different datasets: their FIDs do not compare, so none is marked best.",
        icon=":material/warning:",
    )
frames = {run_id: run_metrics(run_id) for run_id in chosen}
columns = st.columns(2)
shown = [m for m in CURVE_METRICS if any(m in f and f[m].notna().any() for f in frames.values())]
for i, metric in enumerate(shown):
    columns[i % 2].plotly_chart(curves_figure(frames, metric), key=f"compare_{metric}")
