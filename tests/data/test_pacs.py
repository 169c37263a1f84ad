"""``dicomweb:`` import from a real Orthanc: same pixels, labels and report as a folder import; clear failures."""

from __future__ import annotations

import json
import shutil
import socket
import uuid
from pathlib import Path

import numpy as np
import pydicom
import pytest
import requests
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage, generate_uid

from medgan.__main__ import main
from medgan.data.ingest import ingest
from medgan.data.pacs import ingest_dicomweb
from medgan.data.store import load_images, load_manifest, load_skipped
from medgan.dicomweb import PacsError, PacsLogin
from tests.orthanc import PASSWORD, USER, free_port

LOGIN = PacsLogin(USER, PASSWORD)
PYDICOM_FILES = ("CT_small.dcm", "MR_small_RLE.dcm", "JPEG2000.dcm")  # uncompressed, RLE, JPEG 2000


def _busi_as_dicom(png, path, patient: str, study_uid: str) -> None:
    """One BUSI PNG as an 8-bit ultrasound DICOM image of ``patient`` in study ``study_uid``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = UltrasoundImageStorage, generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientID, ds.PatientName, ds.Modality = patient, "Test^Patient", "US"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.StudyDescription = png.parent.name  # the BUSI class, imported with --labels tag:StudyDescription
    ds.set_pixel_data(np.asarray(Image.open(png).convert("L")), "MONOCHROME2", 8)
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def uploaded(tmp_path, shared_data, orthanc) -> tuple:
    """Four BUSI images converted to DICOM (two patients, two classes) and three pydicom test files, uploaded
    to Orthanc through its REST API; returns the folder, the patient ids and the study UIDs."""
    folder, tag = tmp_path / "src", uuid.uuid4().hex[:8].upper()
    folder.mkdir()
    patients, studies = [f"BUSI-{tag}-1", f"BUSI-{tag}-2"], []
    for i, cls in enumerate(("benign", "malignant")):
        studies.append(generate_uid())
        for j, png in enumerate(sorted((shared_data / "busi_128" / cls).glob("*.png"))[:2]):
            _busi_as_dicom(png, folder / f"{cls}{j}.dcm", patients[i], studies[-1])
    for name in PYDICOM_FILES:
        shutil.copy(get_testdata_file(name), folder / name)
    for path in sorted(folder.iterdir()):
        response = requests.post(
            f"{orthanc.url}/instances", data=path.read_bytes(), auth=orthanc.auth, timeout=30
        )
        response.raise_for_status()
    studies += [str(pydicom.dcmread(folder / n).StudyInstanceUID) for n in PYDICOM_FILES]
    return folder, patients, list(dict.fromkeys(studies))


def _pixels_by_sop(info) -> dict[str, np.ndarray]:
    """Cached image of every manifest row, keyed by the SOP Instance UID of its source file."""
    images, root = np.asarray(load_images(info).images), info.source
    return {
        str(pydicom.dcmread(f"{root}/{src}").SOPInstanceUID): images[i]
        for i, src in enumerate(load_manifest(info)["source"])
    }


def test_dicomweb_import_matches_folder_import(uploaded, orthanc):
    folder, patients, studies = uploaded
    settings = {"labels": "tag:StudyDescription", "resolution": 32}
    local = ingest(folder, "local", **settings)
    pulled = ingest_dicomweb(
        f"dicomweb:{orthanc.dicomweb}", "pulled", studies=studies, login=LOGIN, **settings
    )
    assert pulled.dataset.n_images == local.dataset.n_images == 6
    assert pulled.dataset.classes == local.dataset.classes
    # the same report: MR_small_RLE.dcm has no StudyDescription in both imports
    assert (
        [s.reason for s in pulled.skipped]
        == [s.reason for s in local.skipped]
        == ["no value for the label tag StudyDescription"]
    )
    assert pulled.dataset.classes["benign"] == pulled.dataset.classes["malignant"] == 2
    a, b = _pixels_by_sop(local.dataset), _pixels_by_sop(pulled.dataset)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    manifest = load_manifest(pulled.dataset)
    assert set(patients) <= set(manifest["patient_id"])  # PatientID -> patient-level splits
    assert manifest.groupby("patient_id")["split"].nunique().max() == 1
    assert "DICOMweb" in pulled.dataset.description and len(load_skipped(pulled.dataset)) == 1


def test_query_and_cli(uploaded, orthanc, monkeypatch, capsys):
    _, patients, studies = uploaded
    monkeypatch.setenv("MEDGAN_PACS_USER", USER)
    monkeypatch.setenv("MEDGAN_PACS_PASSWORD", PASSWORD)
    argv = [
        "ingest",
        f"dicomweb:{orthanc.dicomweb}",
        "--name",
        "busi-pacs",
        "--query",
        f"PatientID={patients[0]}",
        "--query",
        "Modality=US",
        "--labels",
        "tag:StudyDescription",
        "--resolution",
        "32",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_images"] == 2 and out["classes"] == {"benign": 2} and out["skipped"] == []
    missing = "1.2.3.4.5.6.7.8.9"  # an unknown study becomes a row of the report, the rest is imported
    assert (
        main(
            [
                "ingest",
                f"dicomweb:{orthanc.dicomweb}",
                "--name",
                "partly",
                "--study",
                studies[1],
                "--study",
                missing,
                "--resolution",
                "32",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["n_images"] == 2 and out["classes"] == {"unlabelled": 2}
    assert out["skipped"] == [
        {"file": f"study {missing}", "reason": "no instances on the server (unknown study UID?)"}
    ]


def test_clear_errors(orthanc, tmp_path):
    def fails(url: str, login=LOGIN, timeout=5.0) -> str:
        with pytest.raises(PacsError) as err:
            ingest_dicomweb(url, "x", query={"Modality": "US"}, login=login, timeout=timeout)
        return str(err.value)

    assert "not a DICOMweb base URL" in fails("dicomweb:ftp://pacs/dicom-web")
    assert "login refused (HTTP 401)" in fails(orthanc.dicomweb, PacsLogin(USER, "wrong"))
    assert "HTTP 404" in fails(f"{orthanc.url}/no-such-service") and "/dicom-web" in fails(f"{orthanc.url}/x")
    stopped = f"http://127.0.0.1:{free_port()}/dicom-web"  # nothing listens there: a stopped server
    assert "cannot connect" in fails(stopped) and "is the server running" in fails(stopped)
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        assert "timeout" in fails(f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web", timeout=0.5)
    with pytest.raises(PacsError, match="name the studies"):
        ingest_dicomweb(orthanc.dicomweb, "x", login=LOGIN)


def test_stopped_server_keeps_what_was_retrieved_and_resumes(tmp_path, demo_dataset):
    from tests.orthanc import start_orthanc

    server = start_orthanc(tmp_path / "pacs")
    port = int(server.url.rsplit(":", 1)[1])
    names = ("CT_small.dcm", "MR_small_RLE.dcm", "JPEG2000.dcm")
    for name in names:
        requests.post(
            f"{server.url}/instances",
            data=Path(get_testdata_file(name)).read_bytes(),
            auth=server.auth,
            timeout=30,
        ).raise_for_status()
    studies = list(dict.fromkeys(str(pydicom.dcmread(get_testdata_file(n)).StudyInstanceUID) for n in names))
    retrieved: list[str] = []

    def stop_after_first(done: int, total: int, message: str) -> None:
        if message.startswith("retrieved"):
            retrieved.append(message)
            if len(retrieved) == 1:
                server.stop()

    try:
        with pytest.raises(PacsError, match=r"cannot connect.*Retrieved 1 of 3 instances; they are kept"):
            ingest_dicomweb(
                server.dicomweb,
                "half",
                studies=studies,
                login=LOGIN,
                resolution=32,
                progress=stop_after_first,
            )
        from medgan.data.pacs import retrieval_folder
        from medgan.data.store import list_datasets

        kept = sorted(retrieval_folder(server.dicomweb, studies).glob("*.dcm"))
        assert len(kept) == 1 and [d.name for d in list_datasets()] == [demo_dataset.name]  # nothing lost
        first_written = kept[0].stat().st_mtime_ns
        server = start_orthanc(tmp_path / "pacs", port=port)  # the same server back, same storage
        result = ingest_dicomweb(server.dicomweb, "half", studies=studies, login=LOGIN, resolution=32)
        assert result.dataset.n_images == 3 and result.skipped == []
        assert kept[0].stat().st_mtime_ns == first_written  # resumed: the kept file was not fetched again
    finally:
        server.stop()
