"""``python -m medgan compare`` (medgan/commands/compare.py): JSON on stdout, progress on stderr, errors."""

import json
from pathlib import Path

import pytest

from medgan.__main__ import build_parser, main
from medgan.classify.config import CompareConfig
from medgan.commands.compare import config_from_args


@pytest.mark.slow
def test_compare_json_prints_one_object(brain_dataset, capsys):
    rc = main(
        [
            "compare",
            "--dataset",
            brain_dataset.name,
            "--arms",
            "real,real+classic",
            "--folds",
            "2",
            "--epochs",
            "1",
            "--synthetic-per-class",
            "8",
            "--sizes",
            "40",
            "--seed",
            "3",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    summary = json.loads(out)
    assert "compare:" in err and "100.0% done" in err
    assert summary["result_file"].endswith("comparison.json")
    assert "| real+classic |" in summary["table_markdown"]
    assert summary["command"].startswith("python -m medgan compare --dataset brain-mri-32")
    assert "--sizes 40" in summary["command"] and "--seed 3" in summary["command"]
    assert {m["size"] for m in summary["metrics"]} == {"40"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope"], "no dataset named 'nope'"),
        (["--dataset", "brain-mri-32", "--run", "no-such-run"], "no run 'no-such-run'"),
        (["--dataset", "brain-mri-32", "--folds", "1"], "folds must be at least 2"),
        (["--dataset", "brain-mri-32", "--model", "bogus"], "unknown classifier 'bogus'"),
    ],
)
def test_compare_errors_name_the_reason(brain_dataset, capsys, args, message):
    assert main(["compare", *args]) == 1
    assert message in capsys.readouterr().err


def test_cli_defaults_are_the_library_defaults():
    args = build_parser().parse_args(["compare", "--dataset", "x", "--sizes", "50,all"])
    assert config_from_args(args) == CompareConfig(dataset="x", sizes=(50, 0))


@pytest.mark.slow
def test_compare_with_the_shipped_demo_generator(demo_dataset, capsys):
    from medgan.data.store import load_images
    from medgan.generate import load_generator

    rc = main(
        [
            "compare",
            "--dataset",
            "demo-phantom",
            "--run",
            "demo",
            "--arms",
            "real,real+synthetic",
            "--folds",
            "2",
            "--epochs",
            "1",
            "--synthetic-per-class",
            "8",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    result = json.loads(Path(json.loads(out)["result_file"]).read_text())
    assert result["generators"][0]["checkpoint_sha256"] == load_generator("demo").checkpoint_sha256
    assert result["synthetic"] == [
        {
            "run_id": "demo",
            "checkpoint_sha256": result["generators"][0]["checkpoint_sha256"],
            "class": c,
            "n": 8,
            "seed": 0,
        }
        for c in ["mass", "normal"]
    ]
    splits = load_images(demo_dataset, resolution=32).splits
    assert result["n_seen_by_generator"] == (splits == "train").sum()  # the demo GAN saw the train split
    tested = sorted(r for t in result["trainings"] if t["arm"] == "real" for r in t["test_rows"])
    assert all(splits[r] != "train" for r in tested)


def test_demo_generator_cannot_label_another_dataset(brain_dataset, capsys):
    assert main(["compare", "--dataset", brain_dataset.name, "--run", "demo"]) == 1
    assert "no run makes the classes ['no_tumor', 'tumor']" in capsys.readouterr().err
