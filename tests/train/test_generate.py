"""The generator contract: load_generator("demo") and run ids, sample(), the train/generate CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from medgan import runs, workspace
from medgan.__main__ import main
from medgan.generate import load_generator
from medgan.workspace import file_digest


def test_demo_generator_matches_the_contract():
    generator = load_generator("demo")
    assert (generator.arch, generator.resolution, generator.channels) == ("fastgan", 64, 1)
    assert generator.class_names == ["mass", "normal"] and generator.conditional
    assert generator.dataset == "demo-phantom" and generator.step > 0
    assert generator.checkpoint_path == workspace.REPO_ROOT / "checkpoints" / "demo" / "generator.pt"
    assert generator.checkpoint_sha256 == file_digest(generator.checkpoint_path)
    mass = generator.sample(6, label="mass", seed=1)
    assert mass.shape == (6, 1, 64, 64) and mass.dtype == np.uint8
    assert np.array_equal(mass, generator.sample(6, label="mass", seed=1))
    assert not np.array_equal(mass, generator.sample(6, label="mass", seed=2))
    assert mass.reshape(6, -1).std(axis=0).mean() > 5  # samples differ from each other (no collapse)
    mixed, labels = generator.sample_with_labels(4, seed=1)
    assert labels == ["mass", "mass", "normal", "normal"] and mixed.shape == (4, 1, 64, 64)
    assert np.array_equal(mixed[:2], generator.sample(2, label="mass", seed=1))
    with pytest.raises(ValueError, match="unknown class"):
        generator.sample(1, label="benign")


def test_results_folder_of_demo_is_in_the_workspace():
    folder = runs.results_folder("demo")
    assert folder == workspace.home() / "runs" / "demo" and folder.is_dir()
    assert runs.list_runs() == []  # the demo is not a workspace run
    with pytest.raises(ValueError, match="invalid run id"):
        runs.results_folder("../etc")


def test_generate_cli_writes_pngs(tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "--run",
                "demo",
                "--n",
                "3",
                "--out",
                str(tmp_path),
                "--class",
                "normal",
                "--seed",
                "4",
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    files = sorted(tmp_path.glob("*.png"))
    assert summary["n"] == 3 and len(files) == 3
    assert Image.open(files[0]).size == (64, 64) and Image.open(files[0]).mode == "L"
    assert main(["generate", "--run", "demo", "--n", "1", "--out", str(tmp_path), "--class", "benign"]) == 2
    assert "unknown class" in capsys.readouterr().err


def test_train_cli_prints_the_run_id_and_resumes(demo_dataset, capsys):
    args = [
        "train",
        "--dataset",
        "demo-phantom",
        "--arch",
        "dcgan",
        "--resolution",
        "32",
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--width",
        "8",
        "--json",
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "done" and result["step"] == 2
    assert main(["train", "--resume", result["run_id"], "--steps", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 3
    assert main(["train", "--dataset", "nope", "--steps", "2"]) == 2
    assert "nope" in capsys.readouterr().err
