"""Turing test (study owner): create blinded reader studies, hand out rater links, follow progress, results."""

import math

import streamlit as st

from medgan import audit
from medgan.jobs import tasks
from medgan.settings import PUBLIC_BASE_URL, set_setting
from medgan.turing import charts, results, store
from medgan.turing.study import StudySpec, default_base_url, is_local_address
from medgan.ui.jobs import job_status
from medgan.ui.widgets import dataset_picker, run_picker

st.title("Visual Turing test")
st.caption(
    "Blinded reader study: raters see real (held-out) and synthetic images one at a time, in their own "
    "order, and answer real or synthetic with a confidence from 1 to 5."
)

create_tab, studies_tab = st.tabs(["Create a study", "Studies, raters and results"])

with create_tab:
    info = dataset_picker("turing_dataset", "Dataset (real images from its test/val split)")
    run_id = run_picker("turing_run", dataset=info)
    with st.form("turing_create"):
        name = st.text_input("Study name", key="turing_name")
        real_col, synth_col, seed_col = st.columns(3)
        n_real = real_col.number_input("Real images", 0, 1000, 10, key="turing_n_real")
        n_synthetic = synth_col.number_input("Synthetic images", 0, 1000, 10, key="turing_n_synthetic")
        seed = seed_col.number_input("Seed", 0, 2**31 - 1, 0, key="turing_seed")
        per_class = st.checkbox(
            "Counts are per class", value=info.labelled, disabled=not info.labelled, key="turing_per_class"
        )
        rater_names = st.text_input(
            "Rater names (comma-separated)", "Reader 1, Reader 2, Reader 3", key="turing_raters"
        )
        submitted = st.form_submit_button("Create study", type="primary")
    if submitted:  # sampling and storing the images is a background job; a reload finds it
        spec = StudySpec(
            name=name,
            dataset=info.name,
            run_id=run_id,
            n_real=int(n_real),
            n_synthetic=int(n_synthetic),
            raters=rater_names.split(","),
            per_class=bool(per_class and info.labelled),
            seed=int(seed),
        )
        tasks.start("study", vars(spec), f"Turing study {name!r}: {run_id} vs {info.label}")
    job = job_status(tasks.latest("study"), "turing_create", "Creating the study")
    if job is not None and job.status == "done":
        st.success(
            f"Study {job.result['name']!r} created with {job.result['n_images']} images. Send each rater their own link (tab 'Studies, "
            "raters and results')."
        )

with studies_tab:
    studies = store.list_studies()
    if not studies:
        st.info("No studies yet: create one in the first tab.")
        st.stop()
    by_id = {s.id: s for s in studies}
    study = by_id[
        st.selectbox(
            "Study",
            list(by_id),
            key="turing_study",
            format_func=lambda i: f"{by_id[i].name} ({by_id[i].dataset}, run {by_id[i].run_id})",
        )
    ]
    url_col, save_col = st.columns([4, 1], vertical_alignment="bottom")
    base_url = url_col.text_input(
        "Public address of this app, used in rater links",
        default_base_url(st.context.url),
        key="turing_base_url",
    )
    if save_col.button("Save for everyone", key="turing_save_url", help="stored in the workspace settings"):
        set_setting(PUBLIC_BASE_URL, base_url)
    if is_local_address(base_url):
        st.warning(
            f"{base_url} only opens on this machine: a rater elsewhere cannot follow these links. Enter "
            "the address colleagues use to reach this app.",
            icon=":material/warning:",
        )
    st.dataframe(
        results.progress_table(study, base_url),
        hide_index=True,
        column_config={"link": st.column_config.LinkColumn("link (secret: send to that rater only)")},
    )
    active = [r.name for r in store.list_raters(study.id) if not r.revoked]
    revoke_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    to_revoke = revoke_col.selectbox("Revoke a rater's link", active, index=None, key="turing_revoke_name")
    if button_col.button("Revoke", disabled=to_revoke is None, key="turing_revoke"):
        store.set_revoked(study.id, to_revoke)
        st.rerun()

    include = st.checkbox(
        "Include revoked raters' ratings",
        key="turing_include_revoked",
        help="by default a revoked rater's ratings are left out of every number",
    )
    res = results.study_results(study.id, include_revoked=include)
    st.subheader(f"Results ({res['n_ratings']} ratings)")
    if res["n_ratings_excluded"]:
        st.caption(
            f"{res['n_ratings_excluded']} ratings of revoked raters left out: {', '.join(res['revoked_raters'])}"
        )
    if res["split_warning"]:
        st.warning(res["split_warning"])
    if not res["n_ratings"]:
        st.info("No ratings yet.")
        st.stop()
    pooled, agreement = res["pooled"], res["agreement"]
    acc_col, p_col, kappa_col = st.columns(3)
    acc_col.metric(
        "Accuracy, all raters",
        f"{pooled['accuracy']['value']:.1%}",
        help=f"95% CI {pooled['accuracy']['ci_low']:.1%}-{pooled['accuracy']['ci_high']:.1%}, "
        f"n = {pooled['n']} ratings of {pooled['n_images']} images; {pooled['method']}",
    )
    p_col.metric(
        "p vs 50% (chance), clustered by image",
        f"{pooled['p_value']:.3g}",
        help=f"{pooled['method']}; the naive binomial p (every rating independent) would be "
        f"{pooled['naive_binomial_p']:.3g}",
    )
    fleiss = agreement["fleiss_kappa"]
    kappa_col.metric(
        "Fleiss' kappa",
        "n/a" if math.isnan(fleiss) else f"{fleiss:.3f}",
        help=f"{agreement['fleiss_n_images']} images rated by all {agreement['fleiss_n_raters']} raters "
        "(n/a: fewer than 2 raters, no image rated by all, or no variation in the answers)",
    )
    st.dataframe(
        results.per_rater_table(res),
        hide_index=True,
        column_config={
            m: st.column_config.NumberColumn(format="percent")
            for m in ("accuracy", "sensitivity", "specificity")
        },
    )
    st.plotly_chart(charts.rater_metrics_figure(res), key="turing_metrics_chart")
    if agreement["cohen_pairs"]:
        st.markdown("**Pairwise Cohen's kappa** (images rated by both)")
        st.dataframe(
            agreement["cohen_pairs"],
            hide_index=True,
            column_config={
                "rater_a": "rater",
                "rater_b": "other rater",
                "n_images": "images rated by both",
                "kappa": st.column_config.NumberColumn("Cohen's kappa", format="%.3f"),
            },
        )
    st.plotly_chart(charts.confidence_figure(res), key="turing_confidence_chart")
    st.download_button(
        "Download all ratings with truth (CSV)",
        results.ratings_csv(study.id),
        file_name=f"{study.name}-ratings.csv",
        mime="text/csv",
        key="turing_csv",
    )
    st.download_button(
        "Download the study's audit log (CSV)",
        audit.entries_csv(f"study:{study.id}"),
        file_name=f"{study.name}-ratings-audit.csv",
        mime="text/csv",
        key="turing_audit_csv",
    )
    st.caption(study.details.get("served_bytes", ""))
