"""End-to-end evaluation on the demo dataset with stand-in generators; evaluation.json and latest_metrics."""

import json

import numpy as np
import pytest
from PIL import Image

from medgan.data.ingest import ingest
from medgan.data.phantom import phantom_image
from medgan.data.store import load_images
from medgan.metrics import report
from medgan.metrics.features import get_extractor, real_features
from medgan.metrics.fid import fid
from medgan.sampling import sample_mix, split_counts


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
        # The stand-in plants at index 3 of each class's draw (20 mass, then 20 normal): exactly those are copies.
        copies = {i for i, p in flagged.items() if p["distance"] == pytest.approx(0)}
        assert copies == {3, 23}
        # A fresh phantom image is flagged with probability ~1 % (the threshold is the held-out images' 1st
        # percentile of distance to train): of 38, more than 3 (p < 0.001 by chance) would mean a broken rule.
        assert audit["n_flagged"] - len(copies) <= 3
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
    assert (
        len(history) == 1 and history[0]["step"] == 100 and history[0]["fid"] == _row(results, "FID")["value"]
    )
    assert report.load_pairs("fake-run")["pixel_fake"].shape[1:] == (1, 64, 64)


@pytest.fixture
def unbalanced(tmp_path):
    """A phantom dataset with three "mass" images for every "normal" one (its own in-domain extractor)."""
    rng = np.random.default_rng(0)
    for label, prefix, count in (("mass", "a", 150), ("normal", "b", 50)):
        (tmp_path / "src" / label).mkdir(parents=True)
        for i in range(count):
            image = phantom_image(rng, label == "mass", 64)
            Image.fromarray(image).save(tmp_path / "src" / label / f"{prefix}{i:03d}.png")
    return ingest(tmp_path / "src", "unbalanced", resolution=64).dataset


def test_synthetic_images_follow_the_training_class_mix_and_the_real_side_is_a_stated_subsample(
    unbalanced, make_generator
):
    train = load_images(unbalanced, resolution=64, split="train")
    n_heldout = len(load_images(unbalanced, resolution=64, split=["val", "test"]))
    generator = make_generator(dataset="unbalanced", config={"dataset": "unbalanced"})
    results, _ = report.evaluate_generator(generator, n=100, real_n=40)
    counts = results["sampling"]["synthetic_counts"]
    assert counts == split_counts(
        100, ["mass", "normal"], {c: (train.labels == c).sum() for c in ("mass", "normal")}
    )
    assert 72 <= counts["mass"] <= 78 and counts["mass"] + counts["normal"] == 100  # 3:1, not an even split
    assert results["n_train"] == 40 and results["n_heldout"] == 40 and results["n_synthetic"] == 100
    text = results["sampling"]["text"]
    assert f"40 of {len(train)} train, 40 of {n_heldout} held-out" in text and "class proportions" in text
    per_class = {(r["class"], r["metric"]): r for r in results["per_class"]}
    assert {("mass", "FID"), ("mass", "KID")} <= set(per_class)
    normal = [row for (label, _), row in per_class.items() if label == "normal"]
    # None: too few normal images, with a reason
    assert [r["metric"] for r in normal] in (["FID", "KID"], [None])
    assert normal[0]["metric"] or "fewer than 10 images" in normal[0]["skipped"]
    assert (
        per_class["mass", "FID"]["n_synthetic"] == counts["mass"] and per_class["mass", "FID"]["baseline"] > 0
    )
    cached = sorted((unbalanced.folder / "features").glob("*.npy"))
    assert len(cached) == 2  # one seeded subsample per side, cached
    extractor = get_extractor("domain", unbalanced, 64)
    even, _ = sample_mix(generator, 100, seed=0)  # what an even split over the classes would have scored
    train_feats = real_features(extractor, unbalanced, 64, "train", 40, report.REAL_SEED)
    even_fid = fid(train_feats, extractor(even))["fid"]
    assert even_fid > 1.5 * _row(results, "FID")["value"]  # the class mix alone moves FID
    again, _ = report.evaluate_generator(generator, n=100, real_n=40, seed=1)  # another sampling seed
    assert sorted((unbalanced.folder / "features").glob("*.npy")) == cached
    assert again["distribution"][0]["baseline"] == results["distribution"][0]["baseline"]  # same real side
