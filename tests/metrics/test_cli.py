"""``python -m medgan evaluate``: text tables, --json, and errors that name the reason."""

import json

from medgan.__main__ import main


def test_evaluate_cli_text_and_json(demo_with_domain, make_generator, monkeypatch, capsys):
    monkeypatch.setattr("medgan.generate.load_generator", lambda run_id: make_generator(run_id=run_id))
    assert main(["evaluate", "--run", "demo", "--n", "30"]) == 0
    text = capsys.readouterr().out
    assert "Quality vs nearest training image" in text and "MS-SSIM" in text and "n=30" in text
    assert "features: domain-CNN (demo-phantom, 64 px, supervised)" in text and "FID" in text
    assert main(["evaluate", "--run", "demo", "--n", "30", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert (
        data["run_id"] == "demo" and data["n_synthetic"] == 30 and data["distribution"][0]["metric"] == "FID"
    )


def test_evaluate_cli_unknown_extractor_fails_with_reason(
    demo_with_domain, make_generator, monkeypatch, capsys
):
    monkeypatch.setattr("medgan.generate.load_generator", lambda run_id: make_generator(run_id=run_id))
    assert main(["evaluate", "--run", "demo", "--n", "10", "--features", "vgg"]) == 1
    assert "unknown feature extractor 'vgg'" in capsys.readouterr().err
