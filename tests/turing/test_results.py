"""Results of a study: metrics per rater, agreement, accuracy by confidence and the CSV export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from medgan.turing import results, session, store


def _truth_of(study_id: str) -> dict[str, str]:
    conn = store.connect()
    try:
        return dict(conn.execute("SELECT image_id, source FROM turing_truth WHERE study_id = ?", (study_id,)))
    finally:
        conn.close()


@pytest.fixture
def rated_study(study):
    """A: always right (confidence 5); B: always says real (confidence 2); C: right on the first 8 only."""
    s, raters = study
    truth = _truth_of(s.id)
    flip = {"real": "synthetic", "synthetic": "real"}
    for rater in raters:
        for i, image_id in enumerate(session.image_order(rater.token)):
            if rater.name == "A":
                session.record_answer(rater.token, image_id, truth[image_id], 5)
            elif rater.name == "B":
                session.record_answer(rater.token, image_id, "real", 2)
            elif i < 8:
                session.record_answer(rater.token, image_id, truth[image_id], 3)
            else:
                session.record_answer(rater.token, image_id, flip[truth[image_id]], 1, "unsure")
    return s, raters


def test_per_rater_metrics(rated_study):
    s, _ = rated_study
    res = results.study_results(s.id)
    by_rater = {r["rater"]: r for r in res["per_rater"]}
    a, b, c = by_rater["A"], by_rater["B"], by_rater["C"]
    assert (a["accuracy"]["k"], a["accuracy"]["n"]) == (12, 12)
    assert a["binomial_p"] == pytest.approx(2 / 4096)  # 12/12 against 50%: 2 * 0.5**12
    assert (b["sensitivity"]["value"], b["specificity"]["value"]) == (0.0, 1.0)
    assert b["binomial_p"] == pytest.approx(1.0)
    assert (c["accuracy"]["k"], c["accuracy"]["n"]) == (8, 12)
    assert res["pooled"]["accuracy"]["k"] == 12 + 6 + 8 and res["n_ratings"] == 36


def test_revoked_raters_are_left_out_unless_asked_for(rated_study):
    s, _ = rated_study
    store.set_revoked(s.id, "B")
    res = results.study_results(s.id)
    assert [r["rater"] for r in res["per_rater"]] == ["A", "C"] and res["revoked_raters"] == ["B"]
    assert (res["pooled"]["accuracy"]["k"], res["pooled"]["n"], res["n_ratings_excluded"]) == (20, 24, 12)
    assert res["agreement"]["fleiss_n_raters"] == 2 and res["pooled"]["n_raters"] == 2
    everyone = results.study_results(s.id, include_revoked=True)
    assert (everyone["pooled"]["accuracy"]["k"], everyone["n_ratings_excluded"]) == (26, 0)
    assert [r["revoked"] for r in everyone["per_rater"]] == [False, True, False]


def test_pooled_numbers_are_clustered_by_image(rated_study):
    s, _ = rated_study
    pooled = results.study_results(s.id)["pooled"]
    assert pooled["n_images"] == 12 and pooled["n"] == 36 and "GEE" in pooled["method"]
    acc = pooled["accuracy"]
    assert acc["ci_low"] <= acc["value"] <= acc["ci_high"]
    assert acc["ci_high"] - acc["ci_low"] != pytest.approx(
        acc["naive_ci_high"] - acc["naive_ci_low"], abs=1e-3
    )
    assert pooled["naive_binomial_p"] == pytest.approx(results.stats.binomial_p_value(26, 36))


def test_agreement_matches_statsmodels_and_sklearn(rated_study):
    s, _ = rated_study
    res = results.study_results(s.id)
    frame = results.ratings_frame(s.id)
    wide = frame.pivot(index="image_id", columns="rater", values="answer")
    codes = (wide == "synthetic").astype(int).to_numpy()
    expected_fleiss = fleiss_kappa(aggregate_raters(codes)[0])
    assert res["agreement"]["fleiss_kappa"] == pytest.approx(expected_fleiss, abs=1e-12)
    assert res["agreement"]["fleiss_n_images"] == 12 and res["agreement"]["fleiss_n_raters"] == 3
    pairs = {(p["rater_a"], p["rater_b"]): p["kappa"] for p in res["agreement"]["cohen_pairs"]}
    assert set(pairs) == {("A", "B"), ("A", "C"), ("B", "C")}
    for (x, y), kappa in pairs.items():
        assert kappa == pytest.approx(cohen_kappa_score(wide[x], wide[y]), abs=1e-12) or (
            np.isnan(kappa) and np.isnan(cohen_kappa_score(wide[x], wide[y]))
        )


def test_accuracy_by_confidence(rated_study):
    s, _ = rated_study
    levels = {r["confidence"]: (r["k"], r["n"]) for r in results.study_results(s.id)["by_confidence"]}
    assert levels == {5: (12, 12), 2: (6, 12), 3: (8, 8), 1: (0, 4)}


def test_csv_export_has_every_rating_with_truth(rated_study, tmp_path):
    s, _ = rated_study
    out = tmp_path / "ratings.csv"
    assert results.export_csv(s.id, out) == 36
    frame = pd.read_csv(out)
    assert list(frame.columns) == results.RATING_COLUMNS
    assert frame["truth"].value_counts().to_dict() == {"real": 18, "synthetic": 18}
    assert (frame["correct"] == (frame["answer"] == frame["truth"])).all()
    assert (frame.loc[frame["comment"].notna(), "comment"] == "unsure").sum() == 4


def test_results_without_ratings_are_empty_not_errors(study):
    s, _ = study
    res = results.jsonable(results.study_results(s.id))
    assert res["n_ratings"] == 0 and res["per_rater"] == [] and res["pooled"]["accuracy"]["value"] is None
    assert res["agreement"]["fleiss_kappa"] is None


def test_progress_table_lists_links(study):
    s, raters = study
    session.record_answer(raters[0].token, session.next_image_id(raters[0].token), "real", 1)
    table = results.progress_table(s, "http://host:8501")
    assert table["answered"].tolist() == [1, 0, 0] and table["total"].tolist() == [12, 12, 12]
    assert table["link"].iloc[0] == f"http://host:8501/?rater={raters[0].token}"


def test_image_level_dataset_warns_in_results(study, demo_dataset, capsys):
    s, _ = study
    assert results.study_results(s.id)["split_warning"] == ""  # the demo has two images per patient
    manifest = pd.read_csv(demo_dataset.folder / "manifest.csv")
    manifest.assign(patient_id=manifest["source"]).to_csv(demo_dataset.folder / "manifest.csv", index=False)
    warning = results.study_results(s.id)["split_warning"]
    assert warning.startswith("Every image is its own patient") and "generator saw" in warning
    from medgan.__main__ import main

    assert main(["turing", "results", s.name]) == 0
    assert capsys.readouterr().out.startswith("WARNING: Every image is its own patient")
