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
