"""Classifier: does adding synthetic images help? Four arms on the same patient-level folds, as a background job."""

import streamlit as st

from medgan.classify import figures, report
from medgan.classify.arms import ARMS
from medgan.classify.config import CompareConfig, parse_sizes
from medgan.classify.job import job_result, start_comparison
from medgan.classify.models import SUGGESTED_MODELS
from medgan.jobs import store
from medgan.jobs.views import status_line
from medgan.ui.widgets import dataset_picker, run_picker

st.title("Classifier comparison")
st.caption(
    "Real only, + classic augmentation, + synthetic images, + both: the same folds, the same test images. "
    "Synthetic and augmented images enter training folds only."
)

with st.expander("New comparison", expanded=not store.list_jobs(kind="compare")):
    dataset = dataset_picker("clf_dataset")
    run = run_picker("clf_run", "Generator run (class-conditional or per class)", dataset=dataset)
    form = st.form("clf_form")
with form:
    left, right = st.columns(2)
    with left:
        model = st.selectbox("Classifier", SUGGESTED_MODELS, key="clf_model")
        arms = st.multiselect("Arms", list(ARMS), default=list(ARMS), key="clf_arms")
    with right:
        folds = st.number_input("Folds", 2, 10, 3, key="clf_folds")
        per_class = st.number_input("Synthetic (and augmented) images per class", 1, 5000, 200, key="clf_n")
        epochs = st.number_input(
            "Maximum epochs (early stopping on validation loss)", 1, 200, 12, key="clf_epochs"
        )
        resolution = st.selectbox("Resolution (px)", [32, 64, 128], key="clf_res")
        sizes = st.text_input(
            "Training-set sizes for an F1-vs-size sweep (optional, e.g. 50,100,all)", key="clf_sizes"
        )
        seed = st.number_input("Seed (fixes folds, sampling and training)", 0, 2**31 - 1, 0, key="clf_seed")
    if st.form_submit_button("Start comparison", type="primary"):
        try:
            config = CompareConfig(
                dataset=dataset.name,
                runs=(run,),
                model=model,
                arms=tuple(arms),
                folds=int(folds),
                synthetic_per_class=int(per_class),
                epochs=int(epochs),
                resolution=int(resolution),
                seed=int(seed),
                sizes=parse_sizes(sizes),
            )
            st.session_state["clf_job"] = start_comparison(config)
        except ValueError as exc:
            st.error(f"Cannot start: {exc}")

jobs = store.list_jobs(kind="compare")
if not jobs:
    st.info("No comparison yet: configure one above and start it.")
    st.stop()
ids = [job.id for job in jobs]
current = st.session_state.get("clf_job")
job_id = st.selectbox(
    "Comparison",
    ids,
    index=ids.index(current) if current in ids else 0,
    key="clf_pick",
    format_func=lambda i: f"{i} · {next(j.title for j in jobs if j.id == i)}",
)


@st.fragment(run_every=3)
def _status() -> None:
    job = store.get_job(job_id)
    if job.status in store.ACTIVE:
        st.progress(job.progress, text=status_line(job))  # with elapsed time and ETA
        if st.button("Cancel", key="clf_cancel"):
            store.request_cancel(job_id)
            st.rerun()
    elif job.status != store.JobStatus.DONE:
        st.warning(f"Comparison {job.status}: {job.error or job.message}")
    elif st.session_state.get("clf_shown") != job_id:
        st.session_state["clf_shown"] = job_id
        st.rerun(scope="app")


_status()
result = job_result(store.get_job(job_id))
if result is None:
    st.stop()
size = st.selectbox("Training-set size", result["sizes"], index=len(result["sizes"]) - 1, key="clf_size")
st.markdown(report.markdown_table(result, size))
st.plotly_chart(figures.metric_figure(result, size), key="clf_metrics")
st.plotly_chart(figures.confusion_figure(result, size), key="clf_confusion")
arm = st.selectbox("Curves of arm", result["config"]["arms"], key="clf_curve_arm")
st.plotly_chart(figures.curves_figure(result, size, arm), key="clf_curves")
st.subheader("Paired tests against the baseline")
st.dataframe(report.paired_frame(result, size), hide_index=True)
if len(result["sizes"]) > 1:
    st.plotly_chart(figures.size_figure(result), key="clf_sizes_fig")
    st.markdown(report.markdown_size_table(result))
st.caption(f"Rerun: `{result['command']}` · {result['wall_seconds']:.0f} s on {result['device']}")
downloads = st.columns(3)
downloads[0].download_button("Metrics CSV", report.metrics_csv(result), "metrics.csv", "text/csv")
downloads[1].download_button(
    "Full result JSON", report.result_json(result), "comparison.json", "application/json"
)
downloads[2].download_button(
    "Table (markdown)", report.markdown_table(result, size), "table.md", "text/markdown"
)
