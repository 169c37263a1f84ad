"""medgan/sampling.py: one "n images over classes" helper and one seed scheme, used by every place that
samples a generator, so the same seed gives the same images in generate, export, the Turing study, the
metrics report, the gallery and the classifier comparison."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from medgan.__main__ import main
from medgan.classify.synthetic import draw_synthetic
from medgan.export import export_synthetic
from medgan.generate import load_generator
from medgan.sampling import CHUNK, chunk_spans, sample_mix, split_counts
from medgan.turing import store
from medgan.turing.blinding import decode_png
from medgan.turing.gallery import class_gallery
from medgan.turing.study import StudySpec, create_study


@pytest.mark.parametrize(
    ("n", "weights", "expected"),
    [
        (7, None, {"a": 3, "b": 2, "c": 2}),
        (780, {"a": 437, "b": 210, "c": 133}, {"a": 437, "b": 210, "c": 133}),  # BUSI's proportions
        (100, {"a": 437, "b": 210, "c": 133}, {"a": 56, "b": 27, "c": 17}),  # 56.03, 26.92, 17.05
        (5, {"a": 1, "b": 0, "c": 1}, {"a": 3, "b": 0, "c": 2}),
        (0, None, {"a": 0, "b": 0, "c": 0}),
    ],
)
def test_split_counts_follows_the_weights_and_sums_to_n(n, weights, expected):
    assert split_counts(n, ["a", "b", "c"], weights) == expected


def test_split_counts_refuses_impossible_requests():
    with pytest.raises(ValueError, match="positive sum"):
        split_counts(3, ["a"], {"a": 0})
    with pytest.raises(ValueError, match=">= 0"):
        split_counts(-1, ["a"])


def test_the_first_images_are_the_same_bytes_whatever_the_count_or_start():
    torch.set_num_threads(1)
    demo = load_generator("demo", device="cpu")
    many = demo.sample(CHUNK + 8, label="normal", seed=4)
    np.testing.assert_array_equal(demo.sample(5, label="normal", seed=4), many[:5])
    straddling = demo.sample(
        6, label="normal", seed=4, start=CHUNK - 2
    )  # the end of one chunk, start of the next
    np.testing.assert_array_equal(straddling, many[CHUNK - 2 : CHUNK + 4])
    assert not np.array_equal(demo.sample(5, label="mass", seed=4), many[:5])  # each class has its own stream
    assert not np.array_equal(demo.sample(5, label="normal", seed=3), many[:5])
    assert chunk_spans(CHUNK - 2, 4) == [(0, CHUNK - 2, CHUNK), (1, 0, 2)] and chunk_spans(3, 0) == []


def _pngs(folder) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p))[None] for p in sorted(folder.glob("*.png"))])


def test_same_seed_same_images_everywhere(demo_dataset, tmp_path, capsys):
    torch.set_num_threads(1)
    demo = load_generator("demo", device="cpu")
    mass = demo.sample(6, label="mass", seed=5)  # the reference: the first six "mass" images of seed 5
    argv = ["generate", "--run", "demo", "--class", "mass", "--n", "4", "--seed", "5"]
    assert main([*argv, "--out", str(tmp_path / "gen")]) == 0
    np.testing.assert_array_equal(_pngs(tmp_path / "gen"), mass[:4])

    out = export_synthetic("demo", 3, per_class=True, fmt="png", out=tmp_path / "e.zip", seed=5)
    with zipfile.ZipFile(out) as archive:
        exported = [
            np.asarray(Image.open(io.BytesIO(archive.read(f"png/mass/mass_{i:05d}.png"))))[None]
            for i in range(3)
        ]
    np.testing.assert_array_equal(np.stack(exported), mass[:3])

    spec = StudySpec(
        name="s",
        dataset=demo_dataset.name,
        run_id="demo",
        n_real=1,
        n_synthetic=2,
        raters=["A"],
        per_class=True,
        seed=5,
    )
    study, _ = create_study(spec, demo)
    with store.transaction() as conn:
        truth = conn.execute(
            "SELECT image_id, origin FROM turing_truth WHERE study_id = ? AND label = 'mass' AND "
            "source = 'synthetic'",
            (study.id,),
        ).fetchall()
    rated = {
        int(r["origin"].rsplit(":", 1)[1]): decode_png(store.image_png(study.id, r["image_id"]))
        for r in truth
    }
    np.testing.assert_array_equal(np.stack([rated[0], rated[1]]), mass[:2])

    # what the metrics report and the embeddings draw
    mixed, labels = sample_mix(demo, 10, seed=5, weights={"mass": 3, "normal": 1})
    assert labels == ["mass"] * 8 + ["normal"] * 2 and np.array_equal(mixed[:6], mass)
    drawn = draw_synthetic([demo], ["mass", "normal"], 2, resolution=64, channels=1, seed=5)
    np.testing.assert_array_equal(drawn.images[:2], mass[:2])
    np.testing.assert_array_equal(class_gallery(demo, demo_dataset, "mass", 3, seed=5).synthetic, mass[:3])
