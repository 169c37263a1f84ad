"""The small-data architectures train through the real trainer at 32 and 64 px, unconditional,
class-conditional and per-class, and their generators sample images of the right shape and range."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
import torch

from medgan import runs
from medgan.__main__ import main
from medgan.data.ingest import ingest
from medgan.data.readers import ReadOptions
from medgan.generate import load_generator
from medgan.train.config import load_config
from medgan.train.trainer import create_run, train_run
from tests.train.helpers import tiny_config

torch.set_num_threads(1)  # 2 threads on a shared 2-core machine are ~30x slower (spin-waits)
# architecture -> the stat its extra loss term logs, and the logged steps that have it (R1 is lazy: step 0)
EXTRA_STAT = {"fastgan": ("recon", [1, 2, 3]), "stylegan2": ("r1", [1])}


def _metrics(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("arch", list(EXTRA_STAT))
@pytest.mark.parametrize(
    ("resolution", "conditional"), [(32, "none"), (32, "conditional"), (64, "per-class"), (64, "conditional")]
)
def test_trains_and_samples(demo_dataset, arch, resolution, conditional):
    run_id = create_run(
        tiny_config(arch=arch, resolution=resolution, conditional=conditional, steps=3, ema=True, width=4)
    )
    result = train_run(run_id)
    assert result["status"] == "done"
    folder = runs.run_dir(run_id)
    parts = [folder / "classes" / c for c in ("mass", "normal")] if conditional == "per-class" else [folder]
    for part in parts:
        rows = _metrics(part)
        assert [r["step"] for r in rows] == [1, 2, 3]
        assert all(np.isfinite(r["loss_d"]) and np.isfinite(r["loss_g"]) for r in rows)
        stat, steps = EXTRA_STAT[arch]
        assert [r["step"] for r in rows if stat in r] == steps
        assert all(np.isfinite(r[stat]) and r[stat] >= 0 for r in rows if stat in r)
        checkpoint = torch.load(part / "checkpoints" / "latest.pt", weights_only=True)
        assert checkpoint["step"] == 3 and checkpoint["ema"] is not None
    generator = load_generator(run_id)
    label = "mass" if conditional != "none" else None
    images = generator.sample(6, label=label, seed=2)
    assert images.shape == (6, 1, resolution, resolution) and images.dtype == np.uint8
    assert images.std() > 0 and np.array_equal(images, generator.sample(6, label=label, seed=2))
    if conditional != "none":
        assert not np.array_equal(images, generator.sample(6, label="normal", seed=2))


@pytest.mark.parametrize("arch", list(EXTRA_STAT))
def test_trains_on_2p5d_stacks(workspace_home, tmp_path, arch):
    """A NIfTI volume imported as 5-slice stacks (2.5D): the generator makes 5-channel images."""
    x, y, z = np.mgrid[:32, :32, :40]
    radius = 6 + 6 * np.sin(z / 40 * np.pi)  # a blob growing and shrinking along the slices
    volume = ((x - 16) ** 2 + (y - 16) ** 2 < radius**2).astype(np.int16) * 800 + 100
    nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / "volume.nii.gz")
    ingest(
        tmp_path,
        "stacks",
        labels="none",
        resolution=32,
        options=ReadOptions(multiframe="stack", stack_depth=5),
    )
    run_id = create_run(tiny_config(dataset="stacks", arch=arch, steps=2, width=4, split=None))
    assert train_run(run_id)["status"] == "done"
    images = load_generator(run_id).sample(3, seed=1)
    assert images.shape == (3, 5, 32, 32) and images.dtype == np.uint8 and images.std() > 0


@pytest.mark.parametrize(("arch", "augment"), [("fastgan", "ada"), ("stylegan2", "ada")])
def test_cli_uses_the_presets_augmentation_unless_told(demo_dataset, capsys, arch, augment):
    base = ["train", "--dataset", "demo-phantom", "--arch", arch, "--resolution", "32", "--steps", "1"]
    base += ["--batch-size", "4", "--width", "4", "--device", "cpu", "--json"]
    for extra, expected in (
        ([], augment),
        (["--augment", "none"], "none"),
        (["--augment", "diffaugment"], "diffaugment"),
    ):
        assert main(base + extra) == 0
        run_id = json.loads(capsys.readouterr().out)["run_id"]
        assert load_config(runs.run_dir(run_id)).augment == expected
