"""Patient ids from file names: built-in patterns, user patterns, the conservative auto rule, image-level."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from medgan.classify.folds import make_folds
from medgan.data.grouping import GroupingOptions, load_report
from medgan.data.ingest import ingest
from medgan.data.patients import IMAGE_LEVEL_WARNING, assign_patients, level_word, preview_groups
from medgan.data.store import load_images, load_manifest

CXR = [
    "PNEUMONIA/person1_bacteria_1.jpeg",
    "PNEUMONIA/person1_virus_6.jpeg",
    "PNEUMONIA/person2_bacteria_3.jpeg",
    "NORMAL/IM-0115-0001.jpeg",
    "NORMAL/IM-0115-0002.jpeg",
    "NORMAL/NORMAL2-IM-1427-0001.jpeg",
]


def test_builtin_patterns_group_common_names():
    ids, rule = assign_patients(
        [
            "a/p0012_scan_3.png",
            "a/p0012_scan_4.png",
            "b/p0013_scan_1.png",
            "b/CASE-0042-0001.png",
            "b/CASE-0042-0002.png",
            "a/CASE-0043-0001.png",
        ]
    )
    assert ids == ["p0012", "p0012", "p0013", "CASE-0042", "CASE-0042", "CASE-0043"]
    assert [a["name"] for a in rule.applied] == ["leading token before '_'", "all but the last '-' group"]
    assert rule.n_patients == 4 and not rule.image_level


def test_chest_xray_naming_gives_persons_and_studies():
    ids, _ = assign_patients(CXR, labels=["PNEUMONIA", "NORMAL"])
    assert ids == ["person1", "person1", "person2", "IM-0115", "IM-0115", "NORMAL2-IM-1427"]


def test_public_dataset_namings():
    nih = ["Effusion/00000001_000.png", "Effusion/00000001_001.png", "No Finding/00000002_000.png"]
    assert assign_patients(nih)[0] == ["00000001", "00000001", "00000002"]
    chexpert = [
        "train/patient00001/study1/view1_frontal.jpg",
        "train/patient00001/study2/view1_frontal.jpg",
        "train/patient00002/study1/view1_frontal.jpg",
    ]
    assert assign_patients(chexpert)[0] == ["patient00001", "patient00001", "patient00002"]
    ddsm = [
        "mass/Mass-Training_P_00001_LEFT_CC.png",
        "mass/Mass-Training_P_00001_LEFT_MLO.png",
        "calc/Calc-Test_P_00038_RIGHT_CC_1.png",
    ]
    assert assign_patients(ddsm)[0] == ["P_00001", "P_00001", "P_00038"]
    numbered = [
        "COVID/COVID-1.png",
        "COVID/COVID-2.png",
        "Normal/Normal-1.png",
        "nv/ISIC_0024306.jpg",
        "nv/ISIC_0024307.jpg",
    ]
    ids, rule = assign_patients(numbered, labels=["COVID", "Normal", "nv"])
    assert ids == numbered and rule.image_level


def test_patient_folders():
    ids, _ = assign_patients(["mass/P0012/slice_1.png", "mass/P0012/slice_2.png", "normal/P0013/slice_1.png"])
    assert ids == ["P0012", "P0012", "P0013"]


@pytest.mark.parametrize(
    "names",
    [
        [
            "benign/benign_001.png",
            "benign/benign_002.png",
            "malignant/malignant_001.png",
        ],  # BUSI copy: class word
        ["benign/benign (1).png", "benign/benign (2).png", "malignant/malignant (1).png"],  # BUSI original
        ["tumor/Y30.png", "tumor/Y38.png", "no_tumor/no 10.png"],  # brain MRI teaching set
        ["no_tumor/1_no.png", "no_tumor/2_no.png", "no_tumor/3_no.png"],  # numbered images: no id repeats
    ],
)
def test_image_numbers_are_not_patients(names):
    ids, rule = assign_patients(names, labels=["benign", "malignant", "tumor", "no_tumor"])
    assert ids == names and rule.image_level
    assert IMAGE_LEVEL_WARNING in rule.describe()


def test_conservative_rule_rejects_class_names_and_one_big_group():
    names = [f"x/{c}1_{i}.png" for c in ("mass", "normal") for i in range(5)]
    ids, rule = assign_patients(names, labels=["mass1", "normal1"])
    assert ids == names and "class names" in rule.rejected[0]["reason"]
    names = [f"x/scan1_{i}.png" for i in range(9)] + ["x/scan2_0.png"]
    ids, rule = assign_patients(names)
    assert ids == names and "too coarse" in rule.rejected[0]["reason"]


def test_user_pattern_and_none():
    names = ["a/subj-07_t1.png", "a/subj-07_t2.png", "a/subj-08_t1.png", "a/other.png"]
    ids, rule = assign_patients(names, r"subj-(\d+)")
    assert ids == ["07", "07", "08", "a/other.png"] and rule.n_own == 1 and rule.applied[0]["files"] == 3
    ids, rule = assign_patients(names, "none")
    assert ids == names and rule.image_level
    with pytest.raises(ValueError, match="not a regular expression"):
        assign_patients(names, "(")


def test_preview_lists_largest_groups_first():
    table, rule = preview_groups(CXR)
    assert table.iloc[0].to_dict() == {
        "patient_id": "IM-0115",
        "files": 2,
        "examples": "NORMAL/IM-0115-0001.jpeg, NORMAL/IM-0115-0002.jpeg",
    }
    assert len(table) == 4 and rule.n_patients == 4


def _write_named(folder, names, seed=0):
    rng = np.random.default_rng(seed)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(folder / name)


def test_ingested_patients_never_span_splits_or_folds(tmp_path):
    names = [
        f"{label}/p{p:04d}_scan_{s}.png"
        for p in range(40)
        for s in range(3)
        for label in (("mass",) if p % 2 else ("normal",))
    ]
    _write_named(tmp_path / "src", names)
    result = ingest(tmp_path / "src", "named", resolution=32, workers=1)
    manifest = load_manifest(result.dataset)
    assert manifest["patient_id"].nunique() == 40 and set(manifest["patient_id"]) == {
        f"p{p:04d}" for p in range(40)
    }
    assert (manifest.groupby("patient_id")["split"].nunique() == 1).all()
    assert set(manifest["split"]) == {"train", "val", "test"}
    assert level_word(manifest) == "patient-level"
    assert "leading token" in load_report(result.dataset)["patients"]["description"]
    data = load_images(result.dataset)
    for fold in make_folds(data.labels, data.patients, 3, 0.15, seed=0):
        parts = [set(data.patients[rows]) for rows in (fold.train, fold.val, fold.test)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_ingest_pattern_option_and_image_level_report(tmp_path):
    _write_named(tmp_path / "src", [f"c/img{i}.png" for i in range(6)])
    manifest = load_manifest(ingest(tmp_path / "src", "a", resolution=32, workers=1).dataset)
    assert level_word(manifest) == "image-level"
    grouped = ingest(tmp_path / "src", "b", resolution=32, workers=1, grouping=GroupingOptions(r"img(\d)"))
    report = load_report(grouped.dataset)["patients"]
    assert (
        report["image_level"] is True and report["rule"] == r"img(\d)"
    )  # every id distinct: still image-level
    third = ingest(
        tmp_path / "src", "c", resolution=32, workers=1, grouping=GroupingOptions(r"^(c)/img[0-2]")
    )
    manifest = load_manifest(third.dataset)
    assert (
        manifest["patient_id"].tolist()[:4] == ["c", "c", "c", "c/img3.png"]
        and level_word(manifest) == "patient-level"
    )
