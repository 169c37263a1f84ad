"""t-SNE / UMAP embeddings: one point per image with its source, class and index; cached on second call."""

import numpy as np
import pytest

from medgan.data.store import load_manifest
from tests.standins import PhantomStandIn


def _check_points(result, dataset, n_real, n_fake):
    points = result.points
    assert len(points) == len(result.images) == n_real + n_fake
    assert (points["source"] == "real").sum() == n_real and (points["source"] == "synthetic").sum() == n_fake
    synthetic = points[points["source"] == "synthetic"]
    assert synthetic["label"].tolist() == ["mass"] * (n_fake // 2) + ["normal"] * (n_fake // 2)
    assert synthetic["index"].tolist() == list(range(n_fake))
    real = points[points["source"] == "real"]
    manifest = load_manifest(dataset).set_index("index")
    assert real["label"].tolist() == manifest.loc[real["index"], "label"].tolist()
    assert np.isfinite(points[["x", "y"]].to_numpy()).all()


def test_tsne_one_point_per_image_with_labels_and_cache(demo_dataset, monkeypatch):
    from medgan import embed
    from medgan.metrics import domain

    monkeypatch.setattr(domain, "DEFAULT_STEPS", 20)
    first = embed.embed_generator(
        PhantomStandIn("fake-run", 10, 32, "1" * 64), n=16, n_real=20, method="tsne"
    )
    _check_points(first, demo_dataset, 20, 16)
    assert first.method == "t-SNE" and not first.cached and first.extractor.startswith("domain-CNN")
    monkeypatch.setattr(embed, "project", lambda *a, **k: pytest.fail("the cached map was recomputed"))
    second = embed.embed_generator(
        PhantomStandIn("fake-run", 10, 32, "1" * 64), n=16, n_real=20, method="tsne"
    )
    assert second.cached
    np.testing.assert_array_equal(second.points[["x", "y"]].to_numpy(), first.points[["x", "y"]].to_numpy())
    np.testing.assert_array_equal(second.images, first.images)


@pytest.mark.slow
def test_umap_keeps_two_clusters_apart():
    from medgan.embed import project

    rng = np.random.default_rng(0)
    feats = np.concatenate([rng.normal(0, 1, (15, 8)), rng.normal(12, 1, (15, 8))])
    coords = project(feats, "umap")
    assert coords.shape == (30, 2) and np.isfinite(coords).all()
    gap = np.linalg.norm(coords[:15].mean(0) - coords[15:].mean(0))
    assert gap > 3 * max(coords[:15].std(0).max(), coords[15:].std(0).max())
    with pytest.raises(ValueError, match="at least 5"):
        project(np.zeros((3, 4)), "tsne")
