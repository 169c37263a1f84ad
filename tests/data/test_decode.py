"""Decoding in worker processes or threads gives exactly what one worker gives: same images, order, skips."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from medgan.data import decode
from medgan.data.decode import PARALLEL_MIN_FILES, default_workers
from medgan.data.ingest import ingest
from medgan.data.store import load_images, load_manifest


# 1: forked processes, 3: a threaded host such as Streamlit
@pytest.mark.parametrize("threads_running", [1, 3])
def test_workers_match_one_worker(tmp_path, make_dicom, monkeypatch, threads_running):
    monkeypatch.setattr(decode.threading, "active_count", lambda: threads_running)
    expected = decode.ProcessPoolExecutor if threads_running == 1 else decode.ThreadPoolExecutor
    with decode._executor(1) as executor:
        assert isinstance(executor, expected)
    tmp_path = tmp_path / "src"  # the test's workspace lives in tmp_path itself
    rng = np.random.default_rng(3)
    for folder in ("rgb", "npz"):
        (tmp_path / folder).mkdir(parents=True)
    for i in range(12):
        make_dicom(
            tmp_path / "ct" / f"IM{i:02d}",
            rng.integers(0, 3000, (40, 30)).astype(np.uint16),
            PatientID=f"P{i // 3}",
        )
        Image.fromarray(rng.integers(0, 255, (20, 26, 3), dtype=np.uint8)).save(tmp_path / "rgb" / f"{i}.png")
    np.savez(tmp_path / "npz" / "set.npz", images=rng.integers(0, 255, (5, 9, 9), dtype=np.uint8))
    (tmp_path / "ct" / "IM99").write_bytes(b"\0" * 128 + b"DICM" + b"broken")
    one = ingest(tmp_path, "one", resolution=32, workers=1)
    two = ingest(tmp_path, "two", resolution=32, workers=2)
    assert one.dataset.n_images == 12 + 12 + 5 and one.dataset.channels == 3  # colour PNGs: auto keeps colour
    assert [s.file for s in one.skipped] == ["ct/IM99"]
    assert [(s.file, s.reason) for s in one.skipped] == [(s.file, s.reason) for s in two.skipped]
    assert load_manifest(one.dataset).equals(load_manifest(two.dataset))
    assert np.array_equal(load_images(one.dataset).images, load_images(two.dataset).images)


def test_default_workers():
    assert default_workers(PARALLEL_MIN_FILES - 1) == 1 and 1 <= default_workers(10_000) <= 4
