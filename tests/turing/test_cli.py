"""``python -m medgan turing ...``: results, export, revoke and list (one JSON object with --json)."""

from __future__ import annotations

import json

import pandas as pd

from medgan.__main__ import main
from medgan.turing import session, store


def _json(capsys, argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_results_export_revoke_list(study, capsys, tmp_path):
    s, raters = study
    for image_id in session.image_order(raters[0].token)[:4]:
        session.record_answer(raters[0].token, image_id, "real", 2)
    code, res = _json(capsys, ["turing", "results", "pilot", "--json"])
    assert code == 0 and res["n_ratings"] == 4 and res["per_rater"][0]["rater"] == "A"
    assert res["agreement"]["fleiss_kappa"] is None  # one rater: no agreement to measure, strict JSON null
    code, out = _json(capsys, ["turing", "export", "pilot", "--out", str(tmp_path / "r.csv"), "--json"])
    assert code == 0 and out["rows"] == 4 and len(pd.read_csv(tmp_path / "r.csv")) == 4
    code, out = _json(capsys, ["turing", "revoke", "pilot", "B", "--json"])
    assert code == 0 and out["revoked"] is True and store.list_raters(s.id)[1].revoked
    code, out = _json(capsys, ["turing", "list", "--json"])
    assert out["studies"][0]["name"] == "pilot" and out["studies"][0]["ratings"] == 4


def test_results_leave_out_revoked_raters_unless_asked(study, capsys):
    s, raters = study
    for rater in raters[:2]:
        for image_id in session.image_order(rater.token)[:3]:
            session.record_answer(rater.token, image_id, "real", 2)
    store.set_revoked(s.id, raters[1].name)
    assert main(["turing", "results", "pilot"]) == 0
    text = capsys.readouterr().out
    assert "3 ratings of 3 images" in text and "left out: 3 ratings of revoked raters (B)" in text
    code, res = _json(capsys, ["turing", "results", "pilot", "--include-revoked", "--json"])
    assert code == 0 and res["n_ratings"] == 6 and res["revoked_included"] is True


def test_results_text_and_errors(study, capsys):
    assert main(["turing", "results", "pilot"]) == 0
    assert "Fleiss' kappa" in capsys.readouterr().out
    assert main(["turing", "results", "nope", "--json"]) == 2
    captured = capsys.readouterr()
    assert "no Turing study named 'nope'" in captured.err and json.loads(captured.out)["error"]
    assert main(["turing", "revoke", "pilot", "Z"]) == 2
    assert "no rater named 'Z'" in capsys.readouterr().err


def test_create_with_the_demo_generator(demo_dataset, capsys, monkeypatch):
    monkeypatch.setenv("MEDGAN_BASE_URL", "https://studio.example.org")
    code, out = _json(
        capsys,
        [
            "turing",
            "create",
            "--name",
            "cli",
            "--dataset",
            demo_dataset.name,
            "--run",
            "demo",
            "--real",
            "2",
            "--synthetic",
            "2",
            "--per-class",
            "--seed",
            "3",
            "--raters",
            "A, B",
            "--json",
        ],
    )
    assert code == 0 and out["n_images"] == 8
    assert [r["rater"] for r in out["raters"]] == ["A", "B"]
    assert all(r["link"] == f"https://studio.example.org/?rater={r['token']}" for r in out["raters"])
    assert store.get_study("cli").details["checkpoint_sha256"]


def test_create_warns_about_a_local_address_and_another_datasets_generator(
    demo_dataset, capsys, monkeypatch, tmp_path
):
    import numpy as np
    from PIL import Image

    from medgan.data.ingest import ingest

    for label in ("mass", "normal"):
        (tmp_path / "src" / label).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((16, 16), 40 * i, np.uint8)).save(tmp_path / "src" / label / f"{i}.png")
    ingest(tmp_path / "src", "other", resolution=64)
    monkeypatch.delenv("MEDGAN_BASE_URL", raising=False)
    code = main(
        [
            "turing",
            "create",
            "--name",
            "mixed",
            "--dataset",
            "other",
            "--run",
            "demo",
            "--real",
            "1",
            "--synthetic",
            "1",
            "--raters",
            "A",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0 and "trained on 'demo-phantom', not on 'other'" in err
    assert "only opens on this machine" in err
