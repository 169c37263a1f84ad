"""Checkpoints: atomic, code-free, and a resumed run equals an uninterrupted one."""

from __future__ import annotations

import json
import pickle
import random

import numpy as np
import pytest
import torch

from medgan import runs
from medgan.train.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from medgan.train.config import load_config, save_config
from medgan.train.trainer import Trainer, create_run, train_run
from tests.train.helpers import tiny_config


def test_rng_state_round_trip():
    state = capture_rng()
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    restore_rng(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_checkpoint_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "medgan-checkpoint/1", "payload": pickle.loads(pickle.dumps(print))}, path)
    with pytest.raises(ValueError, match="evil.pt"):
        load_checkpoint(path)
    good = save_checkpoint(tmp_path / "good.pt", {"step": 3, "w": torch.ones(2)})
    assert load_checkpoint(good)["step"] == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _weights(run_id: str) -> dict:
    return load_checkpoint(runs.run_dir(run_id) / "checkpoints" / "latest.pt")


@pytest.mark.parametrize(
    "arch,extra",
    [
        ("dcgan", {"ema": True, "augment": "diffaugment"}),
        ("wgan-gp", {"conditional": "conditional", "augment": "ada"}),
        ("fastgan", {"ema": True, "augment": "diffaugment", "conditional": "conditional"}),
        ("stylegan2", {"ema": True, "augment": "ada", "conditional": "conditional"}),
    ],
)
def test_resume_equals_uninterrupted_run(demo_dataset, arch, extra):
    torch.set_num_threads(1)
    straight = create_run(tiny_config(arch=arch, steps=4, **extra))
    train_run(straight)
    halves = create_run(tiny_config(arch=arch, steps=2, **extra))
    train_run(halves)
    config = load_config(runs.run_dir(halves))
    config.steps = 4
    save_config(config, runs.run_dir(halves))
    train_run(halves)
    a, b = _weights(straight), _weights(halves)
    assert a["step"] == b["step"] == 4
    for part in ("G", "D", "ema"):
        if a[part] is None:
            continue
        for name, tensor in a[part].items():
            assert torch.equal(tensor, b[part][name]), f"{part}.{name} differs after resume"
    assert json.loads(a["config"])["steps"] == 4
    metrics = (runs.run_dir(halves) / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in metrics] == [1, 2, 3, 4]


@pytest.mark.filterwarnings("ignore:for .*copying from a non-meta parameter")
def test_resume_onto_another_device_reads_the_checkpoint_on_the_cpu(demo_dataset):
    """A run saved on one device resumes on another. ``meta`` stands in for a GPU: loading the checkpoint
    onto the training device put the random states there ("can't convert meta device type tensor to
    numpy"); now it is read on the CPU and only weights and optimizer state move to the device."""
    run_id = create_run(tiny_config(steps=2, ema=True, augment="ada"))
    train_run(run_id)
    config = load_config(runs.run_dir(run_id))
    config.device = "meta"
    trainer = Trainer(config, runs.run_dir(run_id))
    assert trainer.step == 2
    assert {p.device.type for p in trainer.G.parameters()} == {"meta"}
    moments = [s["exp_avg"] for s in trainer.opt_g.state_dict()["state"].values()]
    assert moments and {m.device.type for m in moments} == {"meta"}
    assert {p.device.type for p in trainer.tools.ema.model.parameters()} == {"meta"}


def test_elapsed_time_continues_across_a_resume(demo_dataset):
    """metrics.jsonl ``time`` is training time since the run began, so it keeps growing after a resume."""
    run_id = create_run(tiny_config(steps=2))
    train_run(run_id)
    config = load_config(runs.run_dir(run_id))
    config.steps = 4
    save_config(config, runs.run_dir(run_id))
    train_run(run_id)
    rows = [json.loads(line) for line in (runs.run_dir(run_id) / "metrics.jsonl").read_text().splitlines()]
    times = [row["time"] for row in rows]
    assert [row["step"] for row in rows] == [1, 2, 3, 4] and times == sorted(times) and times[2] > times[1]
    assert _weights(run_id)["elapsed"] == pytest.approx(times[-1], abs=1e-3)  # the checkpoint keeps it
