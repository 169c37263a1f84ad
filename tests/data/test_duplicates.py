"""Duplicate detection at ingest: exact and near copies, one split per group, dropping copies, real data."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

from medgan.classify.folds import make_folds
from medgan.commands.ingest import print_summary
from medgan.data.duplicates import find_duplicates, low_res_features, split_units
from medgan.data.grouping import GroupingOptions, load_duplicates, load_report, rows_with_copy_in
from medgan.data.ingest import ingest
from medgan.data.splits import patient_split
from medgan.data.store import get_dataset, load_images, load_manifest, load_skipped


def _scenes(n: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """``n`` distinct smooth random images (uint8, size x size)."""
    rng = np.random.default_rng(seed)
    out = [gaussian_filter(rng.normal(size=(size, size)), 4) for _ in range(n)]
    return np.stack([np.clip((s - s.mean()) / s.std() * 40 + 128, 0, 255).astype(np.uint8) for s in out])


def _near_copy(image: np.ndarray, seed: int = 1) -> np.ndarray:
    """Brighter, lower contrast and noisy: a re-saved copy, not identical."""
    noise = np.random.default_rng(seed).normal(0, 4, image.shape)
    return np.clip(image * 0.9 + 20 + noise, 0, 255).astype(np.uint8)


def test_exact_and_near_copies_are_found_distinct_images_are_not():
    scenes = _scenes(30)
    images = np.concatenate([scenes, scenes[3:4], _near_copy(scenes[7])[None]])[:, None]
    groups = find_duplicates(images)
    assert [(g.rows, g.kind) for g in groups] == [([3, 30], "exact"), ([7, 31], "near")]
    assert groups[1].similarity[1] >= 0.98
    assert (
        find_duplicates(images, threshold=None)[0].rows == [3, 30] and len(find_duplicates(images, None)) == 1
    )
    features = low_res_features(images)
    others = features[:30] @ features[:30].T
    assert others[~np.eye(30, dtype=bool)].max() < 0.9  # the feature tells distinct images apart


def test_split_units_merge_patients_through_copies():
    groups = find_duplicates(np.concatenate([_scenes(4), _scenes(4)[:1]])[:, None])
    units = split_units(np.array(["b", "b", "c", "d", "a"]), groups)
    assert units.tolist() == ["a", "a", "c", "d", "a"]  # row 4 (patient a) copies row 0 (patient b)


def _planted_folder(folder, n=60):
    """``n`` distinct images in two classes, with 6 exact and 6 near copies of other images planted."""
    scenes = _scenes(n)
    files = {}
    for i, image in enumerate(scenes):
        files[f"{'ab'[i % 2]}/img{i:03d}.png"] = image
    for k in range(12):  # copies stay in their class; file order puts them after the originals
        copy = scenes[k] if k < 6 else _near_copy(scenes[k], seed=k)
        files[f"{'ab'[k % 2]}/z_copy{k:02d}.png"] = copy
    for name, image in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / name)
    return folder


def test_planted_duplicates_land_in_one_split(tmp_path):
    result = ingest(_planted_folder(tmp_path / "src"), "planted", resolution=32, workers=1)
    table = load_duplicates(result.dataset)
    report = load_report(result.dataset)["duplicates"]
    assert report["n_groups"] == 12 and report["n_exact_sets"] == 6 and report["n_near_groups"] == 6
    assert report["threshold"] == 0.98 and "16x16" in report["feature"]
    assert (table.groupby("group")["split"].nunique() == 1).all() and report["groups_across_splits"] == []
    manifest = load_manifest(result.dataset)
    # without grouping, the same split puts copies apart: the grouping is what keeps them together
    naive = patient_split(manifest["label"].to_numpy(), manifest["source"].to_numpy(), seed=0)
    split_of = dict(zip(manifest["index"], naive, strict=True))
    assert table.groupby("group")["row"].apply(lambda rows: len({split_of[r] for r in rows})).max() > 1
    data = load_images(result.dataset)
    assert len(set(data.patients)) == len(manifest) - 12  # each copy shares its original's unit
    group_of = dict(zip(table["row"], table["group"], strict=True))
    for fold in make_folds(data.labels, data.patients, 3, 0.15, seed=0):  # the classifier's folds too
        parts = [{group_of[r] for r in rows if r in group_of} for rows in (fold.train, fold.val, fold.test)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_drop_duplicates_keeps_first_copy_and_rewrites_cache(tmp_path):
    source = _planted_folder(tmp_path / "src")
    full = load_images(ingest(source, "full", resolution=32, workers=1).dataset)
    result = ingest(
        source, "dropped", resolution=32, workers=1, grouping=GroupingOptions(drop_duplicates=True)
    )
    manifest, data = load_manifest(result.dataset), load_images(result.dataset)
    assert len(manifest) == 60 and manifest["index"].tolist() == list(range(60))
    assert not manifest["source"].str.contains("copy").any()
    kept = load_manifest(get_dataset("full"))["source"].str.startswith(("a/img", "b/img"))
    assert np.array_equal(np.asarray(data.images), np.asarray(full.images)[kept.to_numpy()])
    skipped = load_skipped(result.dataset)
    assert (
        len(skipped) == 12
        and skipped["reason"].str.contains(r"^(?:exact copy|near copy \(r = 0\.9\d+\)) of ").all()
    )
    assert load_report(result.dataset)["duplicates"]["n_dropped"] == 12


def test_brain_mri_exact_groups_stay_in_one_split(shared_data):
    result = ingest(shared_data / "brain_mri_128", "brain", workers=1)
    report = load_report(result.dataset)
    assert report["duplicates"]["n_exact_sets"] == 22  # as the data README says
    table = load_duplicates(result.dataset)
    assert (table.groupby("group")["split"].nunique() == 1).all()
    y30 = table[table["source"] == "tumor/Y30.png"]["group"].item()
    assert {"tumor/Y38.png", "tumor/Y54.png", "tumor/Y70.png"} <= set(table[table["group"] == y30]["source"])
    assert report["patients"]["image_level"] is True


@pytest.mark.slow
def test_busi_cross_class_copy_is_a_label_conflict(shared_data, capsys):
    options = GroupingOptions(near_threshold=None, drop_duplicates=True)
    print_summary(ingest(shared_data / "busi_128", "busi", workers=1, grouping=options))
    out = capsys.readouterr().out
    assert "1 group(s) of 2 images" in out and "different labels" in out and "WARNING: Patient ids" in out
    info = get_dataset("busi")
    table = load_duplicates(info)
    assert sorted(table["source"]) == ["benign/benign_433.png", "malignant/malignant_145.png"]
    assert table["dropped"].all() and load_report(info)["duplicates"]["conflicting_label_groups"] == [1]
    assert info.n_images == 778 and info.classes == {"benign": 436, "malignant": 209, "normal": 133}
    assert load_skipped(info)["reason"].str.contains("conflicting labels").sum() == 2


def test_conflicting_copies_kept_share_a_split(tmp_path):
    scenes = _scenes(12)
    files = {f"{'ab'[i % 2]}/img{i:02d}.png": image for i, image in enumerate(scenes)} | {
        "b/img12.png": scenes[0]
    }
    for name, image in files.items():  # b/img12 copies a/img00
        (tmp_path / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(tmp_path / "src" / name)
    info = ingest(tmp_path / "src", "conflict", resolution=32, workers=1).dataset
    table = load_duplicates(info)
    assert (
        sorted(table["label"]) == ["a", "b"] and table["split"].nunique() == 1 and not table["dropped"].any()
    )
    assert load_report(info)["duplicates"]["conflicting_label_groups"] == [1]


def test_given_splits_are_kept_and_copies_across_them_reported(tmp_path):
    scenes = _scenes(24, size=28)
    test_images = np.concatenate([scenes[20:], scenes[:1]])  # the last test image copies train image 0
    arrays = {"train_images": scenes[:16], "val_images": scenes[16:20], "test_images": test_images}
    arrays |= {
        f"{split}_labels": np.arange(len(a))[:, None] % 2
        for split, a in (("train", scenes[:16]), ("val", scenes[16:20]), ("test", test_images))
    }
    np.savez(tmp_path / "set.npz", **arrays)
    info = ingest(tmp_path / "set.npz", "given", resolution=32, workers=1).dataset
    manifest = load_manifest(info)
    assert manifest["split"].value_counts().to_dict() == {"train": 16, "test": 5, "val": 4}
    assert load_report(info)["duplicates"]["groups_across_splits"] == [1]
    train_rows = manifest.index[manifest["split"] == "train"].to_numpy()
    test_rows = manifest.index[manifest["split"] == "test"].to_numpy()
    assert rows_with_copy_in(info, test_rows, train_rows).tolist() == [False] * 4 + [True]
