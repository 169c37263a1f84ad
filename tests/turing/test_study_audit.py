"""A Turing study's export carries its audit log (creation, revoked raters)."""

from __future__ import annotations

import pandas as pd


def test_study_export_carries_its_audit_log(study, tmp_path):
    from medgan.turing import results, store

    s, raters = study
    store.set_revoked(s.id, raters[0].name)
    out = tmp_path / "ratings.csv"
    results.export_csv(s.id, out)
    log = pd.read_csv(results.audit_path(out))
    assert list(log["action"]) == ["create Turing study", "revoke rater"]
    assert set(log["target"]) == {f"study:{s.id}"}
    assert raters[0].name in log["detail"].iloc[1]
