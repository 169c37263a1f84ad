"""End-to-end evaluation on the demo dataset with stand-in generators; evaluation.json and latest_metrics."""

import json

import numpy as np
import pytest

from medgan.data.store import load_images
from medgan.metrics import report


def _row(results: dict, metric: str) -> dict:
    return next(r for r in results["distribution"] if r["metric"] == metric)


def test_good_generator_scores_near_baseline_and_noise_far_from_it(demo_with_domain, make_generator):
    good, _ = report.evaluate_generator(make_generator(), n=120)
    bad, _ = report.evaluate_generator(make_generator(mode="noise"), n=120)
    good_fid, bad_fid = _row(good, "FID"), _row(bad, "FID")
    assert good_fid["extractor"].startswith("domain-CNN (demo-phantom, 64 px")
    assert bad_fid["value"] > 5 * good_fid["value"]
    assert good_fid["value"] < 3 * good_fid["baseline"] + 1.0
    assert _row(good, "Precision")["value"] > _row(bad, "Precision")["value"]
    assert good["n_synthetic"] == 120 and good["n_heldout"] == 288 and good["n_train"] == 712
    psnr = next(r for r in good["quality"]["rows"] if r["metric"] == "PSNR")
    assert psnr["n"] == 120 and np.isfinite(psnr["mean"]) and psnr["sd"] > 0


def test_memorization_flags_a_planted_training_image(demo_with_domain, make_generator):
    train = load_images(demo_with_domain, resolution=64, split="train")
    generator = make_generator(planted={3: np.asarray(train.images[40])})
    results, pairs = report.evaluate_generator(generator, n=40)
    for space in ("pixel", "feature"):
        audit = results["memorization"][space]
        flagged = {p["fake_index"]: p for p in audit["flagged"]}
        assert 3 in flagged and flagged[3]["train_index"] == 40 and flagged[3]["distance"] == pytest.approx(0)
        assert flagged[3]["train_row"] == int(train.indices[40])
        assert audit["n_flagged"] <= 2  # fresh phantom images are not copies
        np.testing.assert_array_equal(pairs[f"{space}_fake"][0], pairs[f"{space}_train"][0])
        assert bool(pairs[f"{space}_flagged"][0])


def test_evaluate_writes_atomic_json_and_history(demo_with_domain, make_generator, monkeypatch):
    monkeypatch.setattr("medgan.generate.load_generator", lambda run_id: make_generator(run_id=run_id))
    assert report.latest_metrics("fake-run") is None
    messages = []
    results = report.evaluate("fake-run", n=24, progress=lambda f, m: messages.append((f, m)))
    assert report.latest_metrics("fake-run") == json.loads(json.dumps(results, default=str))
    assert messages[-1] == (1.0, "Done") and [f for f, _ in messages] == sorted(f for f, _ in messages)
    report.evaluate("fake-run", n=24)  # same checkpoint, extractor and n: replaces its history point
    history = report.fid_history(report.runs.results_folder("fake-run"))
    assert len(history) == 1 and history[0]["step"] == 100 and history[0]["fid"] == _row(results, "FID")["value"]
    assert report.load_pairs("fake-run")["pixel_fake"].shape[1:] == (1, 64, 64)
