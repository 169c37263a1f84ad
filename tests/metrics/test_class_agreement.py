"""Class agreement (GAN-test): the in-domain classifier's verdict on each class's synthetic images."""

import numpy as np

from medgan.commands.evaluate import summary
from medgan.metrics import report
from medgan.metrics.class_agreement import agreement_frame, format_share, weak_classifier_note


def _rows(results: dict) -> dict[str, dict]:
    return {row["class"]: row for row in results["class_agreement"]}


def test_a_perfect_generator_agrees_like_real_images_and_a_crossed_one_does_not(
    demo_with_domain, make_generator
):
    good = _rows(report.evaluate_generator(make_generator(), n=120)[0])
    crossed = _rows(report.evaluate_generator(make_generator(mode="swapped"), n=120)[0])
    assert set(good) == set(crossed) == {"mass", "normal"}
    for name, row in good.items():
        assert row["n_synthetic"] == 60 and row["n_heldout"] == 144
        assert row["agreement"] > 0.9 and row["baseline"] > 0.9
        assert row["agreement_low"] < row["agreement"] < row["agreement_high"] or row["agreement"] == 1.0
        assert row["agreement_high"] >= row["baseline_low"]  # intervals overlap: as good as real images
        other = "normal" if name == "mass" else "mass"
        assert crossed[name]["agreement"] < 0.1 and crossed[name]["confused_with"] == other
        assert crossed[name]["baseline"] == row["baseline"]  # same real images, same classifier


def test_class_agreement_is_printed_and_shown_with_intervals(demo_with_domain, make_generator):
    results, _ = report.evaluate_generator(make_generator(mode="swapped"), n=40)
    text = summary(results)
    assert "Class agreement (in-domain CNN (demo-phantom, 64 px))" in text
    frame = agreement_frame(results["class_agreement"])
    assert list(frame["class"]) == ["mass", "normal"]
    assert set(frame["otherwise seen as"]) == {"mass", "normal"}
    assert format_share(0.81, 0.75, 0.86) == "81.0 % (75.0-86.0)" and format_share(None, None, None) == "-"
    assert all(np.isfinite(row["baseline_low"]) for row in results["class_agreement"])


def test_classes_the_classifier_itself_gets_wrong_are_named():
    row = {"class": "normal", "baseline": 0.368, "agreement": 0.447}
    assert weak_classifier_note([{**row, "class": "benign", "baseline": 0.95}]) is None
    note = weak_classifier_note([row, {**row, "class": "malignant", "baseline": 0.483}])
    assert note.startswith(
        "The classifier recognises only part of the held-out real images (normal 37 %, malignant 48 %)"
    )
    assert weak_classifier_note([{**row, "baseline": None}]) is None  # no held-out images of the class
