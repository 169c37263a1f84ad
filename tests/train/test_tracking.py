"""FID/KID tracked while training: rows in metrics.jsonl, the best checkpoint is the lowest, training untouched."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from medgan import runs
from medgan.__main__ import main
from medgan.generate import load_generator
from medgan.metrics import domain
from medgan.train.checkpoint import BEST, LATEST, load_checkpoint
from medgan.train.config import load_config, save_config
from medgan.train.tracking import MetricTracker, floor_note
from medgan.train.trainer import create_run, train_run
from tests.train.helpers import tiny_config


@pytest.fixture(autouse=True)
def _quick_extractor(monkeypatch):
    monkeypatch.setattr(domain, "DEFAULT_STEPS", 20)
    torch.set_num_threads(1)


def _tracked(run_id: str) -> list[dict]:
    lines = (runs.run_dir(run_id) / "metrics.jsonl").read_text().splitlines()
    return [row for row in map(json.loads, lines) if "fid" in row]


def test_tracked_rows_and_best_checkpoint_across_a_resume(demo_dataset):
    run_id = create_run(tiny_config(steps=4, track_every=2, track_n=32, ema=True, conditional="conditional"))
    train_run(run_id)
    folder = runs.run_dir(run_id)
    config = load_config(folder)
    config.steps = 8
    save_config(config, folder)
    train_run(run_id)  # resumes from step 4: the best so far comes back from the checkpoint
    rows = _tracked(run_id)
    assert [r["step"] for r in rows] == [2, 4, 6, 8]
    assert all(
        r["track_n"] == 32 and r["track_n_floor"] == 32 and r["extractor"].startswith("domain-CNN")
        for r in rows
    )
    assert len({r["fid_floor"] for r in rows}) == 1 and 0 <= rows[0]["fid_floor"] < min(
        r["fid"] for r in rows
    )
    assert all(r["kid_std"] > 0 and r["track_seconds"] > 0 for r in rows)
    lowest = min(rows, key=lambda r: r["fid"])
    best = load_checkpoint(folder / "checkpoints" / BEST)
    assert int(best["step"]) == lowest["step"]
    assert [r["step"] for r in rows if r["best"]][-1] == lowest["step"]
    # the best file's generator, scored again on the same fixed noise, gives the recorded value
    generator = load_generator(run_id)
    assert generator.checkpoint == "best" and generator.step == lowest["step"]
    tracker = MetricTracker(config, torch.device("cpu"))
    assert tracker.measure(generator._nets[None], lowest["step"])["fid"] == pytest.approx(
        lowest["fid"], rel=1e-4
    )
    latest = load_generator(f"{run_id}@latest")
    assert latest.checkpoint == "latest" and latest.step == 8


def test_tracking_does_not_change_training(demo_dataset):
    weights = []
    for every in (0, 2):
        run_id = create_run(tiny_config(steps=4, track_every=every, track_n=16))
        train_run(run_id)
        weights.append(load_checkpoint(runs.run_dir(run_id) / "checkpoints" / LATEST)["G"])
        assert (runs.run_dir(run_id) / "checkpoints" / BEST).is_file() == bool(every)
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_short_runs_are_not_tracked_and_best_falls_back_to_latest(demo_dataset):
    run_id = create_run(tiny_config(steps=2, track_every=3, track_n=16))
    train_run(run_id)
    assert _tracked(run_id) == []
    assert load_generator(run_id).checkpoint == "latest"


def test_generator_references_and_cli_checkpoint(demo_dataset, tmp_path, capsys):
    assert runs.parse_ref("abc") == ("abc", "best") and runs.parse_ref("abc@latest") == ("abc", "latest")
    assert runs.generator_ref("abc", "latest") == "abc@latest" and runs.generator_ref("abc") == "abc"
    assert runs.run_dir("abc@latest") == runs.run_dir("abc")
    with pytest.raises(ValueError, match="checkpoint must be one of best, latest"):
        runs.parse_ref("abc@newest")
    run_id = create_run(tiny_config(steps=4, track_every=2, track_n=16))
    train_run(run_id)
    out = {}
    for choice in ("best", "latest"):
        code = main(
            [
                "generate",
                "--run",
                run_id,
                "--checkpoint",
                choice,
                "--n",
                "3",
                "--out",
                str(tmp_path / choice),
                "--json",
            ]
        )
        out[choice] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert code == 0 and out[choice]["checkpoint"] == choice
    assert out["best"]["checkpoint_sha256"] != out["latest"]["checkpoint_sha256"]  # two files
    best_step = int(load_checkpoint(runs.run_dir(run_id) / "checkpoints" / BEST)["step"])
    best, latest = (load_generator(ref).sample(3, seed=1) for ref in (run_id, f"{run_id}@latest"))
    assert best.shape == (3, 1, 32, 32) and np.array_equal(best, latest) == (best_step == 4)


def test_a_warning_once_the_tracked_fid_reaches_its_floor():
    """Below its real-vs-real floor a tracked FID ranks checkpoints by noise: the Train page says so."""
    rows = [
        {"step": 10, "loss_d": 1.0},
        {"step": 100, "fid": 2.0, "fid_floor": 0.76, "extractor": "domain-CNN (busi, 64 px)"},
        {"step": 200, "fid": 0.53, "fid_floor": 0.76, "extractor": "domain-CNN (busi, 64 px)"},
        {"step": 300, "fid": 0.70, "fid_floor": 0.76, "extractor": "domain-CNN (busi, 64 px)"},
    ]
    assert floor_note(pd.DataFrame(rows[:2])) is None
    assert floor_note(pd.DataFrame(rows[:1])) is None  # nothing tracked yet
    note = floor_note(pd.DataFrame(rows))
    assert note.startswith("The tracked FID reached its real-vs-real floor at step 200 (0.53 vs 0.76)")
    assert "domain-CNN (busi, 64 px) features" in note and "Inception" in note
