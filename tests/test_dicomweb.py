"""PACS push: ``export --send`` stores one synthetic patient, one study, one series per class in a real Orthanc."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from medgan.__main__ import main
from medgan.dicomweb import PacsLogin, connect, parse_query, send_dicom
from tests.orthanc import PASSWORD, USER, free_port


def test_export_send_makes_one_patient_one_study_one_series_per_class(orthanc, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDGAN_PACS_USER", USER)
    monkeypatch.setenv("MEDGAN_PACS_PASSWORD", PASSWORD)
    before = set(orthanc.get("/patients"))
    argv = [
        "export",
        "--run",
        "demo",
        "--n",
        "3",
        "--per-class",
        "--format",
        "both",
        "--seed",
        "5",
        "--out",
        str(tmp_path / "sent.zip"),
        "--send",
        orthanc.dicomweb,
        "--json",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["sent"] == {"accepted": 6, "refused": []}
    assert f"sent to {orthanc.dicomweb}: 6 instance(s) accepted, 0 refused" in captured.err
    new = set(orthanc.get("/patients")) - before
    assert len(new) == 1  # one synthetic patient per export
    patient = orthanc.get(f"/patients/{new.pop()}")
    assert patient["MainDicomTags"]["PatientID"].startswith("SYNTHETIC-")
    assert patient["MainDicomTags"]["PatientName"] == "SYNTHETIC^MEDGAN"
    assert len(patient["Studies"]) == 1
    study = orthanc.get(f"/studies/{patient['Studies'][0]}")
    series = [orthanc.get(f"/series/{s}") for s in study["Series"]]
    by_number = {int(s["MainDicomTags"]["SeriesNumber"]): s for s in series}
    assert sorted(by_number) == [1, 2]  # one series per class of the demo (mass, normal)
    for number, cls in ((1, "mass"), (2, "normal")):
        assert cls in by_number[number]["MainDicomTags"]["SeriesDescription"]
        instances = [orthanc.get(f"/instances/{i}") for i in by_number[number]["Instances"]]
        assert sorted(int(i["MainDicomTags"]["InstanceNumber"]) for i in instances) == [1, 2, 3]


def test_send_names_refused_files_and_fails_clearly(orthanc, tmp_path, capsys):
    client = connect(orthanc.dicomweb, PacsLogin(USER, PASSWORD))
    good = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    no_study = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    del no_study.StudyInstanceUID  # Orthanc refuses it (HTTP 400 with a FailedSOPSequence)
    buffer = io.BytesIO()
    no_study.save_as(buffer)
    files = [("ct.dcm", good), ("broken.dcm", b"DICM but not really"), ("no-study.dcm", buffer.getvalue())]
    result = send_dicom(client, files)
    assert result.accepted == [str(pydicom.dcmread(get_testdata_file("CT_small.dcm")).SOPInstanceUID)]
    assert result.refused == [
        ("broken.dcm", "not a readable DICOM file (InvalidDicomError)"),
        ("no-study.dcm", "refused by the server (0xC000 cannot understand)"),
    ]
    stopped = f"http://127.0.0.1:{free_port()}/dicom-web"
    for url, message in ((stopped, "cannot connect"), ("pacs.example", "not a DICOMweb base URL")):
        argv = [
            "export",
            "--run",
            "demo",
            "--n",
            "1",
            "--format",
            "dicom",
            "--out",
            str(tmp_path / "x.zip"),
            "--send",
            url,
        ]
        assert main(argv) == 1
        assert message in capsys.readouterr().err


def test_parse_query():
    assert parse_query(["Modality=CR", "studydate = 20200101-20201231"]) == {
        "ModalitiesInStudy": "CR",
        "StudyDate": "20200101-20201231",
    }


@pytest.mark.parametrize("bad", ["Modality", "Colour=red", "PatientID="])
def test_parse_query_refuses(bad):
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_query([bad])


def test_orthanc_stores_a_stack_as_one_instance_with_its_frames(orthanc, tmp_path):
    """A 2.5D stack sent over STOW-RS is one instance in Orthanc with 4 frames."""
    from tests.test_export_dicom import _stack_file

    path, _ = _stack_file(tmp_path)
    result = send_dicom(
        connect(orthanc.dicomweb, PacsLogin(USER, PASSWORD)), [("stack.dcm", path.read_bytes())]
    )
    uid = str(pydicom.dcmread(path).SOPInstanceUID)
    assert result.accepted == [uid] and result.refused == []
    found = orthanc.post("/tools/lookup", uid)
    frames = orthanc.get(f"/instances/{found[0]['ID']}/frames")
    assert frames == [0, 1, 2, 3]
