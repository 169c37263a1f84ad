"""2.5D stacks end to end: multi-frame DICOM imported with ``multiframe="stack"`` is flagged as a stack, and the
flag reaches the run config, the checkpoint, the loaded and the exported generator, the sample grid, PNG and
DICOM export, so three adjacent slices are never taken for R, G and B."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch
from PIL import Image

from medgan import db, generate, runs
from medgan.__main__ import main
from medgan.data.ingest import ingest
from medgan.data.readers import ReadOptions
from medgan.data.store import get_dataset, load_images
from medgan.export import export_generator, plan_batches
from medgan.train.config import TrainConfig, load_config
from medgan.train.trainer import create_run, train_run
from tests.data.conftest import write_dicom
from tests.train.helpers import tiny_config

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)
MULTIFRAME_GRAYSCALE_BYTE_SC = "1.2.840.10008.5.1.4.1.1.7.2"


def _cine_folder(folder: Path, n_files: int = 8) -> Path:
    """``n_files`` 5-frame 8-bit DICOMs (one patient each); frame f is a disc of radius 4 + 2 f on grey 20 f."""
    y, x = np.mgrid[:32, :32]
    for i in range(n_files):
        frames = np.stack(
            [
                np.where((x - 16) ** 2 + (y - 14 - i % 4) ** 2 < (4 + 2 * f) ** 2, 200, 20 * f)
                for f in range(5)
            ]
        ).astype(np.uint8)
        write_dicom(folder / f"cine{i}.dcm", frames, PatientID=f"P{i}", WindowCenter=127.5, WindowWidth=256)
    return folder


@pytest.fixture
def stack_dataset(tmp_path):
    """The cine folder imported as 3-slice stacks (one per file; the 2-frame tail is dropped)."""
    options = ReadOptions(multiframe="stack", stack_depth=3)
    return ingest(
        _cine_folder(tmp_path / "cine"), "cine", labels="none", resolution=32, options=options
    ).dataset


def test_ingest_flags_stacks_and_only_stacks(stack_dataset, tmp_path):
    assert (stack_dataset.stack, stack_dataset.channels, stack_dataset.n_images) == (True, 3, 8)
    assert get_dataset("cine").stack  # as stored in the database
    images = np.asarray(load_images(stack_dataset).images)
    assert not np.array_equal(images[:, 0], images[:, 1]) and not np.array_equal(images[:, 1], images[:, 2])
    frames = ingest(tmp_path / "cine", "cine-frames", labels="none", resolution=32).dataset
    assert (frames.stack, frames.channels, frames.n_images) == (False, 1, 40)


def test_a_run_on_stacks_records_the_flag_and_its_generator_keeps_it(stack_dataset, tmp_path, capsys):
    run_id = create_run(tiny_config(dataset="cine", steps=2, width=4, split=None, augment="diffaugment"))
    assert train_run(run_id)["status"] == "done"
    folder = runs.run_dir(run_id)
    assert load_config(folder).stack and json.loads((folder / "config.json").read_text())["stack"] is True
    checkpoint = torch.load(folder / "checkpoints" / "latest.pt", weights_only=True)
    assert json.loads(checkpoint["config"])["stack"] is True
    assert Image.open(folder / "samples" / "latest.png").mode == "L"  # middle slices, not a colour grid

    gen = generate.load_generator(run_id)
    assert gen.stack and gen.channels == 3
    stacks = gen.sample(2, seed=1)
    pngs = generate.write_pngs(stacks, tmp_path / "png", stack=gen.stack)
    assert [np.asarray(Image.open(p)).tolist() for p in pngs] == stacks[:, 1].tolist()
    assert main(["generate", "--run", run_id, "--n", "2", "--out", str(tmp_path / "cli")]) == 0
    assert "each PNG is the grey middle slice" in capsys.readouterr().out

    shipped = generate.export_generator(run_id, tmp_path / "shipped")
    assert TrainConfig.from_dict(json.loads((tmp_path / "shipped" / "config.json").read_text())).stack
    assert json.loads(torch.load(shipped, weights_only=True)["config"])["stack"] is True
    assert Image.open(tmp_path / "shipped" / "samples.png").mode == "L"

    with pytest.raises(ValueError, match="multi-frame DICOM"):
        export_generator(gen, 1, per_class=False, fmt="png", out=tmp_path / "png.zip")
    out = export_generator(gen, 1, per_class=False, fmt="dicom", out=tmp_path / "dicom.zip", seed=4)
    with zipfile.ZipFile(out) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dcm")]
        (tmp_path / "stack.dcm").write_bytes(archive.read(name))
        assert "2.5D stacks of 3 adjacent slices" in archive.read("DATASHEET.md").decode()
    ds = pydicom.dcmread(tmp_path / "stack.dcm")
    assert (ds.SOPClassUID, ds.NumberOfFrames, ds.SamplesPerPixel) == (MULTIFRAME_GRAYSCALE_BYTE_SC, 3, 1)
    batch = plan_batches([], 1, False, 4)[0]
    assert np.array_equal(ds.pixel_array, gen.sample(1, seed=batch.sample_seed, start=batch.start)[0])
    # dicom3tools' IOD validator (installed by the README's test command)
    report = subprocess.run(["dciodvfy", str(tmp_path / "stack.dcm")], capture_output=True, text=True)
    text = report.stdout + report.stderr
    assert "MultiframeGrayscaleByteSCImage" in text and "Error" not in text, text


def test_configs_from_before_the_flag_load_as_not_a_stack():
    old = {k: v for k, v in tiny_config().to_dict().items() if k != "stack"}
    assert TrainConfig.from_dict(old).stack is False


def test_reimporting_a_stack_imported_before_the_flag_sets_it(stack_dataset, tmp_path):
    """A stack dataset from before the flag (stack 0 after the migration) is flagged when re-imported, even
    though the unchanged files reuse its cache."""
    conn = sqlite3.connect(db.db_path())
    conn.execute("UPDATE datasets SET stack = 0")
    conn.commit()
    conn.close()
    assert not get_dataset("cine").stack
    options = ReadOptions(multiframe="stack", stack_depth=3)
    again = ingest(tmp_path / "cine", "cine2", labels="none", resolution=32, options=options)
    assert again.reused_from == "cine" and again.dataset.stack and get_dataset("cine2").stack
