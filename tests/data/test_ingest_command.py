"""``python -m medgan ingest``: summary text, one JSON object, exit status only non-zero when nothing was read."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from medgan.__main__ import main


def _folder(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for i in range(2):
            Image.fromarray(np.full((20, 20), 60 * i, np.uint8)).save(tmp_path / label / f"{i}.png")
    (tmp_path / "b" / "scan.dcm").write_bytes(b"not dicom at all")
    return tmp_path


def test_json_summary(tmp_path, capsys):
    assert main(["ingest", str(_folder(tmp_path)), "--name", "small", "--resolution", "32", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["name"] == "small" and out["n_images"] == 4 and out["classes"] == {"a": 2, "b": 2}
    assert [s["file"] for s in out["skipped"]] == ["b/scan.dcm"]
    assert "not a readable DICOM file" in out["skipped"][0]["reason"] and out["reused_from"] is None
    assert main(["ingest", str(tmp_path), "--name", "again", "--resolution", "32"]) == 0
    assert "its cache was reused" in capsys.readouterr().out


def test_text_summary_and_shared_data(shared_data, capsys):
    assert main(["ingest", str(shared_data / "brain_mri_128"), "--name", "brain", "--resolution", "32"]) == 0
    out = capsys.readouterr().out
    assert "Dataset 'brain'" in out and "252 images" in out
    assert "  no_tumor: 98" in out and "  tumor: 154" in out and "Skipped 0 file(s)" in out


def test_nothing_readable_exits_non_zero(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    assert main(["ingest", str(tmp_path), "--name", "junk", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no readable images" in captured.err and "notes.txt" in captured.err


def test_bad_arguments_are_explained(tmp_path, capsys):
    assert main(["ingest", str(_folder(tmp_path)), "--name", "w", "--window", "40"]) == 1
    assert "CENTER,WIDTH" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path), "--name", "t", "--labels", "tag:Nonsense"]) == 1
    assert "not a DICOM attribute keyword" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path), "--name", "p", "--patient-pattern", "(unclosed"]) == 1
    assert "is not a regular expression" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path), "--name", "n", "--near-duplicates", "1.5"]) == 1
    assert "--near-duplicates must be a correlation" in capsys.readouterr().err
    args = ["--multiframe", "stack", "--stack-depth", "1"]
    assert main(["ingest", str(tmp_path), "--name", "s", *args]) == 1
    assert "a 2.5D stack needs at least 2 frames (stack depth 1)" in capsys.readouterr().err


def test_patient_pattern_and_duplicate_flags(tmp_path, capsys):
    images = {"a/0_x.png": 0, "a/0_y.png": 0, "b/1_x.png": 60, "b/2_x.png": 120, "b/3_x.png": 180}
    for name, value in images.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        Image.fromarray(np.full((20, 20), value, np.uint8)).save(tmp_path / name)
    args = [
        "ingest",
        str(tmp_path),
        "--name",
        "g",
        "--resolution",
        "32",
        "--json",
        "--patient-pattern",
        r"^[ab]/(\d)_",
        "--near-duplicates",
        "off",
        "--drop-duplicates",
    ]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["patients"]["rule"] == r"^[ab]/(\d)_" and out["patients"]["n_patients"] == 4
    assert out["n_images"] == 4 and out["skipped"][0]["file"] == "a/0_y.png"  # the copy of a/0_x.png
    assert out["duplicates"]["n_dropped"] == 1 and out["duplicates"]["threshold"] is None
    (tmp_path / "a" / "0_y.png").unlink()
    Image.fromarray(np.full((20, 20), 60, np.uint8)).save(
        tmp_path / "a" / "1_y.png"
    )  # copies b/1_x, other label
    for name in ("b/2_x.png", "b/3_x.png", "a/0_x.png"):
        (tmp_path / name).unlink()
    assert main(["ingest", str(tmp_path), "--name", "none-left", "--drop-duplicates"]) == 1
    assert "no readable images" in capsys.readouterr().err  # every image was a conflicting copy
