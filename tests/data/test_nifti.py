"""NIfTI reader: slices along each axis in RAS orientation, 2.5D stacks, 4D volumes, one window per volume."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from medgan.data.frames import UnreadableFile
from medgan.data.ingest import ingest
from medgan.data.nifti import read_nifti
from medgan.data.readers import ReadOptions


@pytest.fixture
def volume_path(tmp_path):
    """A 20x24x10 int16 volume (RAS affine) with a bright block at x 5-7, y 15-19 on every slice."""
    vol = np.zeros((20, 24, 10), np.int16)
    vol[5:8, 15:20, :] = 1000
    vol[..., 9] += 50  # the top slice is a little brighter
    path = tmp_path / "vol.nii.gz"
    nib.save(nib.Nifti1Image(vol, np.eye(4)), path)
    return path


def test_axial_slices_are_oriented_anterior_up(volume_path):
    frames = list(read_nifti(volume_path, ReadOptions()))
    assert len(frames) == 10 and frames[0].pixels.shape == (24, 20)
    bright = np.argwhere(frames[0].pixels > 128)
    # y 15..19 of 24 (anterior) lands in rows 4..8 from the top; x 5..7 stays in columns 5..7
    assert tuple(bright.min(0)) == (4, 5) and tuple(bright.max(0)) == (8, 7)
    # one window for the whole volume: the brighter top slice stays brighter than the others
    assert frames[9].pixels.mean() > frames[0].pixels.mean()


@pytest.mark.parametrize(
    ("axis", "count", "shape"), [(0, 20, (10, 24)), (1, 24, (10, 20)), (2, 10, (24, 20))]
)
def test_each_axis(volume_path, axis, count, shape):
    frames = list(read_nifti(volume_path, ReadOptions(nifti_axis=axis)))
    assert len(frames) == count and frames[0].pixels.shape == shape


def test_stacks_and_4d(tmp_path, volume_path):
    stacks = list(read_nifti(volume_path, ReadOptions(multiframe="stack", stack_depth=3)))
    assert [f.frame for f in stacks] == [0, 3, 6] and stacks[0].pixels.shape == (3, 24, 20)
    cine = tmp_path / "cine.nii"
    nib.save(
        nib.Nifti1Image(np.random.default_rng(0).random((8, 8, 2, 5)).astype(np.float32), np.eye(4)), cine
    )
    frames = list(read_nifti(cine, ReadOptions()))
    assert len(frames) == 10 and frames[-1].frame == 9 and frames[-1].meta["volume"] == "4"


def test_broken_file_and_ingest(tmp_path, volume_path):
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(volume_path.read_bytes()[:200])
    with pytest.raises(UnreadableFile, match="not a readable NIfTI"):
        list(read_nifti(broken, ReadOptions()))
    result = ingest(tmp_path, "vols", labels="none", resolution=32)
    assert result.dataset.n_images == 10 and [s.file for s in result.skipped] == ["broken.nii.gz"]
