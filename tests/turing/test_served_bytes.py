"""Served Turing images carry no side channel: a classifier on what the bytes reveal besides the pixels
(file size, chunk layout) does no better than chance on real vs synthetic images, where the sizes of the
same images compressed as before tell them apart."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from medgan.turing import session, store
from medgan.turing.study import StudySpec, create_study
from tests.turing.test_blinding import chunk_types


def _features(png: bytes) -> list[float]:
    kinds = chunk_types(png)
    return [len(png), len(kinds), kinds.count(b"IDAT")]


def _accuracy(features: np.ndarray, truth: np.ndarray) -> float:
    model = LogisticRegression(max_iter=1000)
    scaled = (features - features.mean(0)) / np.where(features.std(0) > 0, features.std(0), 1)
    return float(cross_val_score(model, scaled, truth, cv=5, scoring="accuracy").mean())


def test_served_bytes_do_not_tell_real_from_synthetic(demo_dataset, fake_generator):
    # the stand-in generator draws noise, which compresses far worse than the real phantom scans
    spec = StudySpec("side-channel", demo_dataset.name, "fake-run", 20, 20, ["A"], seed=3)
    s, raters = create_study(spec, fake_generator)
    conn = store.connect()
    try:
        truth_rows = conn.execute(
            "SELECT image_id, source FROM turing_truth WHERE study_id = ?", (s.id,)
        ).fetchall()
    finally:
        conn.close()
    truth_by_id = {r["image_id"]: r["source"] == "real" for r in truth_rows}
    served = {i: session.serve_image(raters[0].token, i) for i in store.image_ids(s.id)}
    ids = sorted(served)
    truth = np.array([truth_by_id[i] for i in ids], dtype=int)
    assert truth.sum() == 20 and len(truth) == 40
    sizes = {len(served[i]) for i in ids}
    assert len(sizes) == 1  # every served image has the same byte size
    features = np.array([_features(served[i]) for i in ids], dtype=float)
    assert _accuracy(features, truth) <= 0.6  # chance: 0.5 (no feature varies)
    # the check can fail: the same images compressed as before (zlib level 6) are told apart by size
    compressed = []
    for i in ids:
        buffer = io.BytesIO()
        Image.open(io.BytesIO(served[i])).save(buffer, format="PNG", compress_level=6)
        compressed.append([len(buffer.getvalue())])
    assert _accuracy(np.array(compressed, dtype=float), truth) > 0.9
