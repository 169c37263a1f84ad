"""Numbers behind the Data page: class table, previews, histograms, DICOM source lookup."""

from __future__ import annotations

import numpy as np

from medgan.data import summary
from medgan.data.ingest import ingest
from medgan.data.store import load_manifest


def test_class_table_previews_and_histograms(demo_dataset):
    manifest = load_manifest(demo_dataset)
    table = summary.class_table(manifest).set_index("label")
    assert table.loc["mass", "images"] == 500 and table.loc["mass", "patients"] == 250
    assert (table[["train", "val", "test"]].sum(axis=1) == table["images"]).all()
    rows = summary.preview_rows(manifest, per_class=4, seed=1)
    assert set(rows) == {"mass", "normal"} and all(len(r) == 4 for r in rows.values())
    assert (manifest.loc[rows["mass"], "label"] == "mass").all()
    hist = summary.intensity_histogram(demo_dataset, bins=16, max_images=50)
    assert len(hist) == 32 and np.allclose(hist.groupby("label")["fraction"].sum(), 1.0)
    assert set(hist["n_images"]) == {50}
    for fig in (
        summary.class_figure(summary.class_table(manifest)),
        summary.size_figure(manifest),
        summary.intensity_figure(hist),
    ):
        assert len(fig.data) >= 2


def test_dicom_sources_found_only_while_files_exist(make_dicom, tmp_path, demo_dataset):
    for i in range(3):
        make_dicom(tmp_path / "src" / f"IM{i}", np.full((8, 8), i * 100, np.uint16), PatientID=f"P{i}")
    info = ingest(tmp_path / "src", "dcm", labels="none", resolution=32).dataset
    assert summary.dicom_sources(info) == ["IM0", "IM1", "IM2"]
    assert summary.source_path(info, "IM1") == tmp_path / "src" / "IM1"
    (tmp_path / "src" / "IM1").unlink()
    assert summary.dicom_sources(info) == ["IM0", "IM2"]
    assert summary.dicom_sources(demo_dataset) == []
