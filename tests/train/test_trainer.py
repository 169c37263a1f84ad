"""Every architecture trains a few steps at 32 px on CPU and its generator samples the right images."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from medgan import runs
from medgan.generate import load_generator
from medgan.models.registry import arch_names
from medgan.train.config import load_config
from medgan.train.trainer import Trainer, create_run, train_run
from tests.train.helpers import tiny_config

CASES = {
    "dcgan": {"augment": "diffaugment", "ema": True},
    "wgan": {"augment": "none"},
    "wgan-gp": {"conditional": "conditional"},
    "sngan": {"augment": "ada"},
    "acgan": {"conditional": "conditional", "ema": True},
    "progan": {"steps": 6, "ema": True, "grow_steps": 4},
    "fastgan": {"augment": "diffaugment", "ema": True},
    "stylegan2": {"augment": "ada", "ema": True},
}


def test_cases_cover_the_registry():
    assert set(CASES) == set(arch_names())


@pytest.mark.parametrize("arch", list(CASES))
def test_arch_trains_and_generates(demo_dataset, arch):
    torch.set_num_threads(1)
    run_id = create_run(
        tiny_config(
            arch=arch,
            steps=CASES[arch].get("steps", 2),
            **{k: v for k, v in CASES[arch].items() if k != "steps"},
        )
    )
    result = train_run(run_id)
    assert result["status"] == "done"
    folder = runs.run_dir(run_id)
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == result["step"]
    assert {"loss_d", "loss_g", "d_real", "d_fake", "ada_p", "images_per_sec", "time"} <= set(rows[-1])
    assert all(np.isfinite(row["loss_d"]) and np.isfinite(row["loss_g"]) for row in rows)
    assert (folder / "samples" / "latest.png").is_file()
    generator = load_generator(run_id)
    labels = generator.class_names
    images = generator.sample(5, label=labels[0] if labels else None, seed=3)
    assert images.shape == (5, 1, 32, 32) and images.dtype == np.uint8
    assert images.std() > 0  # not a constant image
    assert np.array_equal(images, generator.sample(5, label=labels[0] if labels else None, seed=3))
    assert [r.id for r in runs.list_runs()] == [run_id] and runs.list_runs()[0].status == "done"


def test_per_class_trains_one_generator_per_class(demo_dataset):
    run_id = create_run(tiny_config(conditional="per-class", steps=2))
    assert train_run(run_id)["step"] == 4
    generator = load_generator(run_id)
    assert generator.class_names == ["mass", "normal"] and generator.conditional
    mass, normal = generator.sample(3, label="mass"), generator.sample(3, label="normal")
    assert mass.shape == normal.shape == (3, 1, 32, 32) and not np.array_equal(mass, normal)
    with pytest.raises(ValueError, match="unknown class"):
        generator.sample(1, label="benign")


def test_unconditional_run_refuses_labels(demo_dataset):
    run_id = create_run(tiny_config(steps=1))
    train_run(run_id)
    with pytest.raises(ValueError, match="unconditional"):
        load_generator(run_id).sample(1, label="mass")


def test_abort_stops_early_and_keeps_a_checkpoint(demo_dataset):
    run_id = create_run(tiny_config(steps=50))
    seen = []
    result = train_run(
        run_id, progress_fn=lambda step, total, stats: seen.append(step), abort_fn=lambda: len(seen) >= 2
    )
    assert result["status"] == "cancelled" and result["step"] == 2
    assert load_generator(run_id).step == 2
    assert runs.list_runs()[0].status == "cancelled"


def test_first_points_at_once_and_an_early_sample_grid(demo_dataset):
    """Ticks at steps 1, 2, 4, 8 before the first log_every, so a new run shows a curve and an ETA at
    once; a sample grid at step 10, then on schedule; set-up phases reported while it starts."""
    run_id = create_run(tiny_config(steps=12, log_every=10, sample_every=100, checkpoint_every=100))
    phases = []
    trainer = Trainer(load_config(runs.run_dir(run_id)), runs.run_dir(run_id), on_phase=phases.append)
    assert phases == ["loading data", "building model"]
    trainer.train()
    folder = runs.run_dir(run_id)
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [1, 2, 4, 8, 10, 12]
    assert sorted(p.name for p in (folder / "samples").glob("step_*.png")) == [
        "step_0000010.png",
        "step_0000012.png",
    ]
    resumed = []
    Trainer(load_config(folder), folder, on_phase=resumed.append)
    assert resumed[-1] == "resuming from checkpoint"
