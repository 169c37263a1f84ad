"""Evaluate: image quality against the nearest real image, FID/KID/precision/recall/density/coverage beside a
real-vs-real baseline, FID over training steps, and a memorization audit with flagged pairs."""

import pandas as pd
import streamlit as st

from medgan import runs
from medgan.data.imageops import to_pil
from medgan.jobs import tasks
from medgan.metrics import figures, report
from medgan.metrics.class_agreement import agreement_frame, weak_classifier_note
from medgan.train.monitor import RunWatcher
from medgan.ui.jobs import job_status
from medgan.ui.widgets import ensure_demo, run_picker


def _pairs(run_id: str, space: str) -> None:
    pairs = report.load_pairs(run_id) or {}
    if f"{space}_fake" not in pairs:
        return
    stack = runs.run_is_stack(run_id)
    flagged = bool(pairs[f"{space}_flagged"].any())
    st.markdown("**Flagged pairs**" if flagged else "**Closest pairs** (none flagged)")
    for fake, real, dist in list(
        zip(pairs[f"{space}_fake"], pairs[f"{space}_train"], pairs[f"{space}_distance"], strict=True)
    )[:8]:
        left, right, note = st.columns([1, 1, 2])
        left.image(to_pil(fake, stack), caption="synthetic", width=128)
        right.image(to_pil(real, stack), caption="nearest training image", width=128)
        note.caption(f"distance {dist:.3g}")


st.title("Evaluate")
ensure_demo()
controls = st.columns([2, 1, 2, 1])
with controls[0]:
    run_id = run_picker("evaluate_run")
n = int(controls[1].number_input("Synthetic images (0 = as many as held-out)", 0, 20000, 0, key="evaluate_n"))
choice = controls[2].selectbox(
    "Features",
    ["domain", "inception", "inception:PATH"],
    key="evaluate_features",
    help="domain: a small CNN trained on this dataset; inception: the FID Inception-v3",
)
features = choice
if choice == "inception:PATH":
    features = "inception:" + st.text_input("TorchScript file on the server", key="evaluate_path")
seed = int(controls[3].number_input("Seed", 0, 2**31 - 1, 0, key="evaluate_seed"))
job = tasks.latest("evaluate", run_id=run_id)  # evaluations run as background jobs; a reload finds them
if st.button("Run evaluation", type="primary", key="evaluate_go", disabled=tasks.active(job)):
    tasks.start(
        "evaluate",
        {"run_id": run_id, "n": n or None, "features": features, "seed": seed},
        f"evaluate {run_id} ({features}, seed {seed})",
    )
    job = tasks.latest("evaluate", run_id=run_id)
job_status(job, "evaluate", "Evaluation")

results = report.latest_metrics(run_id)
if results is None:
    if job is None:
        st.info("No evaluation of this run yet: press Run evaluation (it runs in the background).")
    st.stop()
if results.get("split_warning"):
    st.warning(results["split_warning"])
st.caption(
    f"Step {results['step']} · {results['n_synthetic']} synthetic, {results['n_train']} training, "
    f"{results['n_heldout']} held-out real images · seed {results['seed']} · {results['created']}"
)

st.subheader("Quality against the nearest training image")
quality = pd.DataFrame(results["quality"]["rows"])
quality["mean ± sd"] = [f"{m:.4g} ± {s:.2g}" for m, s in zip(quality["mean"], quality["sd"], strict=True)]
quality["better"] = quality["higher_is_better"].map({True: "higher", False: "lower"})
st.dataframe(quality[["metric", "mean ± sd", "n", "unit", "better", "note"]], hide_index=True)

st.subheader(f"Distribution · features: {results['extractor']}")
dist = pd.DataFrame(results["distribution"])
dist["synthetic vs train"] = [
    f"{v:.4g}" + (f" ± {s:.2g}" if pd.notna(s) else "")
    for v, s in zip(dist["value"], dist["sd"], strict=True)
]
dist["held-out vs train (baseline)"] = [
    f"{v:.4g}" + (f" ± {s:.2g}" if pd.notna(s) else "")
    for v, s in zip(dist["baseline"], dist["baseline_sd"], strict=True)
]
st.dataframe(
    dist[
        [
            "metric",
            "synthetic vs train",
            "held-out vs train (baseline)",
            "extractor",
            "n_synthetic",
            "n_heldout",
            "n_train",
        ]
    ],
    hide_index=True,
)
if sampling := results.get("sampling"):
    st.caption(sampling["text"])
if per_class := [row for row in results.get("per_class", []) if row["metric"]]:
    st.markdown(
        "**Per class**: each class's synthetic images against its training images (baseline: its held-out)"
    )
    st.dataframe(
        pd.DataFrame(per_class)[
            ["class", "metric", "value", "baseline", "n_synthetic", "n_heldout", "n_train"]
        ],
        hide_index=True,
    )

if agreement := results.get("class_agreement"):
    st.markdown(
        "**Class agreement**: share of each class's synthetic images that a classifier of the real training "
        "images assigns to that class, 95 % interval (baseline: its held-out real images)"
    )
    st.dataframe(agreement_frame(agreement), hide_index=True)
    if note := weak_classifier_note(agreement):
        st.warning(note)

st.subheader("FID over training steps")
st.caption("FID tracked while training (fixed noise, against the held-out images) and full evaluations.")
st.plotly_chart(
    figures.fid_curve(RunWatcher(run_id).frame(), report.fid_history(runs.results_folder(run_id)))
)

st.subheader("Memorization audit")
for space, audit in results["memorization"].items():
    st.markdown(
        f"**{space.capitalize()} space**: {audit['n_flagged']} of {audit['n_fake']} synthetic images "
        f"closer to a training image than {audit['threshold']:.3g} {audit['unit']} "
        f"(the {audit['percentile']:g}st percentile of {audit['n_heldout']} held-out images"
        + (
            f", leaving out {audit['n_heldout_copies']} that copy a training image"
            if audit.get("n_heldout_copies")
            else ""
        )
        + ")."
    )
    st.plotly_chart(figures.distance_histogram(audit), key=f"evaluate_hist_{space}")
    _pairs(run_id, space)
