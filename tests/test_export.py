"""Synthetic dataset export: ZIP layout, manifest, datasheet, determinism, atomicity, re-import."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgan.data.ingest import ingest
from medgan.data.store import load_images
from medgan.export import class_counts, export_generator, folder_names, read_datasheet


@dataclass
class FakeGenerator:
    """Same attributes as medgan.generate.LoadedGenerator; images from a seeded RNG (tests only)."""

    checkpoint_path: Path
    class_names: list[str] = field(default_factory=lambda: ["mass", "normal"])
    channels: int = 1
    stack: bool = False
    resolution: int = 32
    dataset: str = "demo-phantom"
    run_id: str = "test-run"
    arch: str = "dcgan"
    step: int = 120
    config: dict = field(default_factory=lambda: {"arch": "dcgan", "lr": 0.0002, "batch_size": 16})
    calls: list = field(default_factory=list)

    @property
    def conditional(self) -> bool:
        return bool(self.class_names)

    @property
    def checkpoint_sha256(self) -> str:
        return hashlib.sha256(self.checkpoint_path.read_bytes()).hexdigest()

    def sample(
        self, n: int, *, label: str | None = None, seed: int = 0, batch_size: int = 64, start: int = 0
    ) -> np.ndarray:
        if (label is None) != (not self.class_names) or (label is not None and label not in self.class_names):
            raise ValueError(f"bad label {label!r}")
        self.calls.append((n, label, seed, start))
        shape = (self.channels, self.resolution, self.resolution)
        streams = [[seed, self.class_names.index(label) if label else 0, i] for i in range(start, start + n)]
        return np.stack([np.random.default_rng(s).integers(0, 256, shape, dtype=np.uint8) for s in streams])


def make_generator(tmp_path: Path, **kwargs) -> FakeGenerator:
    """A fake generator with a checkpoint file of random bytes."""
    ckpt = tmp_path / "checkpoint.pt"
    if not ckpt.exists():
        ckpt.write_bytes(np.random.default_rng(7).bytes(4096))
    return FakeGenerator(checkpoint_path=ckpt, **kwargs)


def read_manifest(zip_path: Path) -> list[dict[str, str]]:
    with zipfile.ZipFile(zip_path) as archive:
        return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))


@pytest.mark.parametrize(
    ("classes", "n", "per_class", "expected"),
    [
        (["a", "b"], 3, True, {"a": 3, "b": 3}),
        (["a", "b", "c"], 7, False, {"a": 3, "b": 2, "c": 2}),
        ([], 5, True, {"unlabelled": 5}),
        ([], 5, False, {"unlabelled": 5}),
    ],
)
def test_class_counts(classes, n, per_class, expected):
    assert class_counts(classes, n, per_class) == expected


def test_folder_names_are_safe_and_unique():
    names = folder_names(["mass", "../etc", "a b", "a_b", ".."])
    assert names["mass"] == "mass"
    assert all("/" not in f and f not in (".", "..") and not f.startswith(".") for f in names.values())
    assert len(set(names.values())) == 5


@pytest.fixture
def source_dataset(tmp_path) -> str:
    """A tiny registered dataset standing in for the generator's training set."""
    for label in ("mass", "normal"):
        (tmp_path / "src" / label).mkdir(parents=True)
        Image.fromarray(np.full((32, 32), 90, np.uint8)).save(tmp_path / "src" / label / "a.png")
    ingest(tmp_path / "src", "tiny-src", resolution=32, description="Tiny test set, CC-BY 4.0 (test licence)")
    return "tiny-src"


def test_zip_layout_manifest_and_datasheet(tmp_path, source_dataset):
    gen = make_generator(tmp_path, dataset=source_dataset)
    out = export_generator(gen, 5, per_class=True, fmt="png", out=tmp_path / "out" / "export.zip", seed=3)
    assert out.stat().st_mode & 0o777 == 0o644
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        datasheet = archive.read("DATASHEET.md").decode()
        first = archive.read("png/mass/mass_00000.png")
    assert sorted(n for n in names if n.endswith(".png")) == [
        f"png/{c}/{c}_{i:05d}.png" for c in ("mass", "normal") for i in range(5)
    ]
    rows = read_manifest(out)
    assert [r["file"] for r in rows] == [n for n in names if n.endswith(".png")]
    expected_hash = hashlib.sha256(gen.checkpoint_path.read_bytes()).hexdigest()
    assert {r["checkpoint_sha256"] for r in rows} == {expected_hash}
    assert {(r["architecture"], r["run_id"], r["seed"]) for r in rows} == {("dcgan", "test-run", "3")}
    assert [r["class"] for r in rows] == ["mass"] * 5 + ["normal"] * 5
    # the manifest says how to reproduce each image
    row = rows[0]
    again = gen.sample(1, label="mass", seed=int(row["seed"]), start=int(row["index"]))[0]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(first)))[None], again)
    assert "not for diagnosis" in datasheet and "Research and education" in datasheet
    assert "Tiny test set, CC-BY 4.0" in datasheet and "mass (1), normal (1)" in datasheet  # source dataset
    assert "- Patients: 2; duplicate groups: 1" in datasheet  # its two images are identical
    assert "- WARNING: Every image is its own patient" in datasheet
    assert "No metrics were computed" in datasheet
    assert '"lr": 0.0002' in datasheet and expected_hash in datasheet


def test_total_count_is_split_over_classes(tmp_path):
    gen = make_generator(tmp_path, dataset="deleted-set")
    out = export_generator(gen, 5, per_class=False, fmt="png", out=tmp_path / "e.zip")
    classes = [r["class"] for r in read_manifest(out)]
    assert classes.count("mass") == 3 and classes.count("normal") == 2
    assert "deleted-set (not registered in this workspace" in read_datasheet(out)


def test_unconditional_run_goes_to_one_folder(tmp_path):
    gen = make_generator(tmp_path, class_names=[])
    out = export_generator(gen, 3, per_class=True, fmt="png", out=tmp_path / "u.zip")
    assert [r["file"] for r in read_manifest(out)] == [
        f"png/unlabelled/unlabelled_{i:05d}.png" for i in range(3)
    ]


def test_large_export_is_chunked_with_progress(tmp_path):
    gen = make_generator(tmp_path, class_names=["a"], resolution=8)
    seen = []
    export_generator(
        gen,
        150,
        per_class=True,
        fmt="png",
        out=tmp_path / "big.zip",
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(64, 150), (128, 150), (150, 150)]
    calls = [(n, start) for n, _, _, start in gen.calls]
    assert calls == [(64, 0), (64, 64), (22, 128)]  # images 0..149, each once


def test_same_seed_same_bytes_other_seed_other_images(tmp_path):
    gen = make_generator(tmp_path)
    first = export_generator(gen, 3, per_class=True, fmt="both", out=tmp_path / "a.zip", seed=11)
    second = export_generator(gen, 3, per_class=True, fmt="both", out=tmp_path / "b.zip", seed=11)
    other = export_generator(gen, 3, per_class=True, fmt="both", out=tmp_path / "c.zip", seed=12)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(other) as c:
        assert a.namelist() == c.namelist()
        assert a.read("png/mass/mass_00000.png") != c.read("png/mass/mass_00000.png")
        assert a.read("dicom/mass/mass_00000.dcm") != c.read("dicom/mass/mass_00000.dcm")


def test_failed_export_leaves_no_file_and_keeps_the_old_one(tmp_path):
    gen = make_generator(tmp_path, class_names=["a"], resolution=8)
    target = tmp_path / "exports" / "x.zip"
    target.parent.mkdir()
    target.write_bytes(b"previous export")

    def cancel(done, total):
        raise KeyboardInterrupt("user cancelled")

    with pytest.raises(KeyboardInterrupt):
        export_generator(gen, 130, per_class=True, fmt="png", out=target, progress=cancel)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in target.parent.iterdir()] == ["x.zip"]  # no temp file left behind
    with pytest.raises(KeyboardInterrupt):
        export_generator(
            gen, 130, per_class=True, fmt="png", out=tmp_path / "exports" / "new.zip", progress=cancel
        )
    assert not (tmp_path / "exports" / "new.zip").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmt": "jpeg"}, "unknown export format"),
        ({"channels": 5}, "1- or 3-channel"),
        ({"n": 0}, "between 1 and"),
    ],
)
def test_bad_requests_are_refused_before_writing(tmp_path, kwargs, message):
    gen = make_generator(tmp_path, **{k: v for k, v in kwargs.items() if k not in ("fmt", "n")})
    with pytest.raises(ValueError, match=message):
        export_generator(
            gen, kwargs.get("n", 2), per_class=True, fmt=kwargs.get("fmt", "png"), out=tmp_path / "bad.zip"
        )
    assert not (tmp_path / "bad.zip").exists()


def test_round_trip_through_the_importer(tmp_path):
    gen = make_generator(tmp_path, resolution=32)
    out = export_generator(gen, 4, per_class=True, fmt="png", out=tmp_path / "rt.zip", seed=5)
    with zipfile.ZipFile(out) as archive:
        archive.extractall(tmp_path / "unzipped")
    result = ingest(tmp_path / "unzipped" / "png", "reimported", resolution=32)
    assert result.dataset.classes == {"mass": 4, "normal": 4}
    assert result.skipped == []
    images = load_images(result.dataset)
    expected = np.concatenate(
        [
            gen.sample(4, label=c, seed=int(read_manifest(out)[i * 4]["seed"]))
            for i, c in enumerate(["mass", "normal"])
        ]
    )
    assert np.array_equal(np.asarray(images.images), expected)  # lossless, same order
    # the ZIP itself, labels from its manifest (the datasheet and manifest are reported as non-images)
    labels = tmp_path / "unzipped" / "manifest.csv"
    from_zip = ingest(out, "from-zip", labels=f"csv:{labels}", resolution=32)
    assert from_zip.dataset.classes == {"mass": 4, "normal": 4}
    assert sorted(s.file for s in from_zip.skipped) == ["DATASHEET.md", "manifest.csv"]


def test_datasheet_reports_the_latest_evaluation(tmp_path):
    from medgan.runs import results_folder
    from medgan.workspace import atomic_write_json

    gen = make_generator(tmp_path)
    memo = {
        "space": "pixel",
        "threshold": 8.5,
        "fake_median": 20.25,
        "heldout_median": 19.0,
        "n_fake": 200,
        "n_flagged": 3,
        "fake_distances": [1.0] * 200,
        "flagged": [],
    }
    atomic_write_json(
        results_folder(gen.run_id) / "evaluation.json",
        {
            "run_id": gen.run_id,
            "step": 120,
            "checkpoint_sha256": gen.checkpoint_sha256,
            "extractor": "domain-cnn",
            "created": "2026-01-02T03:04:05+00:00",
            "n_synthetic": 200,
            "n_train": 700,
            "n_heldout": 300,
            "distribution": [
                {"metric": "FID", "value": 31.234567, "baseline": 4.5, "sd": None, "higher_is_better": False},
                {"metric": "KID", "value": 0.0123, "baseline": 0.001, "sd": 0.002, "higher_is_better": False},
            ],
            "quality": {"rows": [{"metric": "SSIM", "mean": 0.4123, "sd": 0.05, "n": 200, "unit": ""}]},
            "memorization": {"pixel": memo},
            "sampling": {"text": "Synthetic images in the class proportions (mass 140, normal 60)"},
        },
    )
    out = export_generator(gen, 1, per_class=True, fmt="png", out=tmp_path / "m.zip")
    sheet = read_datasheet(out)
    assert "at step 120, of the exported checkpoint; features: domain-cnn" in sheet
    assert "| FID | 31.23 | 4.5 | lower |" in sheet and "| KID | 0.0123 ± 0.002 |" in sheet
    assert "| SSIM | 0.4123 ± 0.05 | 200 |" in sheet and "| pixel | 20.25 | 19 | 8.5 | 3 of 200 |" in sheet
    assert "No metrics were computed" not in sheet and "[1.0, 1.0" not in sheet
    assert "held-out real images. Synthetic images in the class proportions (mass 140" in sheet
    gen.checkpoint_path.write_bytes(b"a newer checkpoint")
    out = export_generator(gen, 1, per_class=True, fmt="png", out=tmp_path / "m2.zip")
    assert "DIFFERENT checkpoint" in read_datasheet(out)


def test_cli_exports_the_demo_checkpoint(tmp_path, capsys):
    from medgan.__main__ import main
    from medgan.generate import checkpoint_file

    out = tmp_path / "demo.zip"
    argv = [
        "export",
        "--run",
        "demo",
        "--n",
        "3",
        "--per-class",
        "--format",
        "dicom",
        "--seed",
        "2",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "export: 6/6 images" in printed.err and f"wrote {out}" in printed.out
    rows = read_manifest(out)
    checkpoint_hash = hashlib.sha256(checkpoint_file("demo").read_bytes()).hexdigest()
    assert {r["checkpoint_sha256"] for r in rows} == {checkpoint_hash}
    assert [r["class"] for r in rows] == ["mass"] * 3 + ["normal"] * 3
    assert [r["file"] for r in rows][-1] == "dicom/normal/normal_00002.dcm"


def test_cli_names_the_missing_run(tmp_path, capsys):
    from medgan.__main__ import main

    out = tmp_path / "out" / "x.zip"
    assert main(["export", "--run", "no-such-run", "--n", "2", "--out", str(out)]) == 1
    assert "no run 'no-such-run'" in capsys.readouterr().err
    assert not out.parent.exists()
