"""Pixel, byte and expansion budgets checked from headers before decoding; peak memory of an import of
hostile files measured in a subprocess (resource + tracemalloc) and held under the 2 GiB decode budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import hostile
from medgan.data import budget
from medgan.data.decode import default_workers
from medgan.data.ingest import ingest
from medgan.data.zipsafe import UnsafeZip, safe_extract

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> Path:
    """One good PNG beside files over each limit (smaller than bench/attack.py's, still over the limits)."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "good.png").write_bytes(hostile.small_png())
    hostile.npz_bomb(folder / "bomb.npz", side=7000)  # 49 Mpx float32, 196 MB from 0.2 MB
    hostile.npz_bomb(folder / "stack.npz", side=64, rows=20000)  # 328 MB of small images from 0.3 MB
    hostile.png16_bomb(folder / "bomb.png", side=7000)  # 49 Mpx 16-bit
    hostile.nifti_bomb(folder / "bomb.nii.gz", side=700)  # 343 MB of voxels
    hostile.dicom_bomb(folder / "bomb.dcm")  # 30000 x 30000 claimed
    hostile.dicom_bomb(folder / "frames.dcm", rows=512, columns=512, frames=5000)  # 2.5 GB claimed
    return folder


def test_every_hostile_file_is_refused_naming_the_limit_and_the_rest_imports(hostile_folder):
    result = ingest(hostile_folder, "hostile", workers=1)
    assert result.dataset.n_images == 1  # good.png
    reasons = {s.file: s.reason for s in result.skipped}
    assert "images.npy row is 7000 x 7000 = 49.0 Mpx" in reasons["bomb.npz"]  # from the .npy header
    assert (
        "the archive expands to 313 MiB" in reasons["stack.npz"]
        and "MEDGAN_ARCHIVE_RATIO" in reasons["stack.npz"]
    )
    assert (
        "7000 x 7000 = 49.0 Mpx" in reasons["bomb.png"] and "MEDGAN_MAX_FRAME_PIXELS" in reasons["bomb.png"]
    )
    assert (
        "700 frame(s) of 700 x 700" in reasons["bomb.nii.gz"]
        and "MEDGAN_MAX_FILE_BYTES" in reasons["bomb.nii.gz"]
    )
    assert "30000 x 30000" in reasons["bomb.dcm"]
    assert "5000 frame(s)" in reasons["frames.dcm"] and "160 MiB per file" in reasons["frames.dcm"]
    assert all("/" not in r for r in reasons.values())  # no server path in any reason


def _run_measurement(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    """Run a measuring ``script`` in a fresh interpreter with its own workspace; fails the test if it fails."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MEDGAN_HOME": str(tmp_path / "ws")},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out


_MEASURE = """
import json, resource, sys, tracemalloc
from medgan.data.ingest import ingest
import medgan.data.dicom, medgan.data.nifti, medgan.data.npz, medgan.data.raster
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
tracemalloc.start()
result = ingest(sys.argv[1], "hostile", workers=4)
traced = tracemalloc.get_traced_memory()[1]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"base": base, "peak": peak, "child": child, "traced": traced, "n": result.dataset.n_images,
                  "skipped": len(result.skipped)}))
"""


@pytest.mark.slow
def test_peak_memory_of_a_hostile_import_stays_under_the_budget(hostile_folder, tmp_path):
    files = [
        hostile_folder / n
        for n in ("bomb.npz", "stack.npz", "bomb.png", "bomb.nii.gz", "bomb.dcm", "frames.dcm")
    ]
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "good.png").write_bytes(hostile.small_png())
    for copy in range(4):  # 24 hostile files: enough for the worker pool to start
        for path in files:
            (folder / f"{copy}-{path.name}").write_bytes(path.read_bytes())
    out = _run_measurement(tmp_path, _MEASURE, str(folder))
    m = json.loads(out.stdout.strip().splitlines()[-1])
    assert m["n"] == 1 and m["skipped"] == 24
    growth = m["peak"] - m["base"]
    # before the budgets, one of these files alone peaked at 4.6-13.9 GB; four workers multiplied that
    assert growth + 4 * m["child"] < budget.DEFAULT_MEMORY_BUDGET, m
    assert m["traced"] < 256 * budget.MiB, m


def test_archive_expansion_is_relative_to_its_size(tmp_path):
    zeros = hostile.zip_of_zeros(tmp_path / "zeros.zip", entries=300)  # 300 MiB from about 0.3 MB
    with pytest.raises(
        UnsafeZip, match=r"zeros.zip: 300.0 MiB uncompressed, more than the limit of 256.0 MiB"
    ):
        safe_extract(zeros, tmp_path / "out")
    assert not any((tmp_path / "out").rglob("*.dcm"))
    assert budget.archive_budget(10 * budget.MiB, 8 * budget.GiB) == 500 * budget.MiB
    assert budget.archive_budget(1 * budget.GiB, 8 * budget.GiB) == 8 * budget.GiB


def test_bad_entry_names_become_skipped_rows(tmp_path, workspace_home):
    archive = hostile.zip_with_bad_names(tmp_path / "names.zip", hostile.small_png())
    result = ingest(archive, "names")
    assert result.dataset.n_images == 2  # ok/a.png and ok/b.png
    skipped = {s.file: s.reason for s in result.skipped}
    long_name = next(f for f in skipped if "nnn" in f)
    assert long_name.startswith("names.zip: data/") and len(long_name) < 100
    assert "name too long" in skipped[long_name]
    assert "same name as its folder" in skipped["names.zip: data/x/y.png"]
    assert not any(str(tmp_path) in r or str(workspace_home) in r for r in skipped.values())


def test_decode_workers_fit_the_memory_budget(monkeypatch):
    assert budget.max_decode_workers() == 2  # 2 GiB / 1 GiB per worker
    monkeypatch.setenv("MEDGAN_MEMORY_BUDGET", str(4 * 1024**3))
    assert budget.max_decode_workers() == 4 and default_workers(1000) <= 4
    monkeypatch.setenv("MEDGAN_MEMORY_BUDGET", str(100 * 1024**2))
    assert budget.max_decode_workers() == 1 and default_workers(1000) == 1


_ONE_FILE = """
import resource, sys
from medgan.data.ingest import ingest
ingest(sys.argv[2], "warm-up", workers=1)  # library imports and first-use set-up are the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
result = ingest(sys.argv[1], "at-limit", workers=1)
print(result.dataset.n_images, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base)
"""


@pytest.mark.slow
def test_a_file_at_the_byte_limit_decodes_within_one_workers_share(tmp_path):
    """The heaviest reader at the limit (multi-frame 16-bit DICOM, 160 MiB of frames) stays under
    PEAK_PER_WORKER, the share :func:`budget.max_decode_workers` gives each decoder."""
    import numpy as np
    from pydicom import dcmread

    path = hostile.dicom_bomb(tmp_path / "at-limit.dcm", rows=512, columns=512, frames=320)
    ds = dcmread(path)
    ds.PixelData = np.random.default_rng(0).integers(0, 4096, (320, 512, 512), dtype=np.uint16).tobytes()
    ds.save_as(path)
    assert budget.max_file_bytes() == 320 * 512 * 512 * 2
    warm = tmp_path / "warm.png"
    warm.write_bytes(hostile.small_png())
    out = _run_measurement(tmp_path, _ONE_FILE, str(path), str(warm))
    n, growth = (int(v) for v in out.stdout.split()[-2:])
    assert n == 320
    assert growth < budget.PEAK_PER_WORKER, f"{growth / budget.MiB:.0f} MiB"
