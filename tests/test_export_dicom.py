"""DICOM Secondary Capture export: required attributes, new UIDs, no training-set identity, re-import."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from medgan.data.ingest import ingest
from medgan.data.store import load_images, load_manifest
from medgan.export import export_generator, plan_batches
from tests.test_export import make_generator

# Secondary Capture Image IOD (DICOM PS3.3 A.8.1): the Type 1 (present, not empty) and Type 2 (present, may be
# empty) attributes of its mandatory modules that apply to a single-frame 8-bit image.
SC_TYPE1 = {
    "General Study (C.7.2.1)": ["StudyInstanceUID"],
    "General Series (C.7.3.1)": ["Modality", "SeriesInstanceUID"],
    "SC Equipment (C.8.6.1)": ["ConversionType"],
    "Image Pixel (C.7.6.3)": [
        "SamplesPerPixel",
        "PhotometricInterpretation",
        "Rows",
        "Columns",
        "BitsAllocated",
        "BitsStored",
        "HighBit",
        "PixelRepresentation",
        "PixelData",
    ],
    "SOP Common (C.12.1)": ["SOPClassUID", "SOPInstanceUID"],
}
SC_TYPE2 = {
    "Patient (C.7.1.1)": ["PatientName", "PatientID", "PatientBirthDate", "PatientSex"],
    "General Study (C.7.2.1)": [
        "StudyDate",
        "StudyTime",
        "ReferringPhysicianName",
        "StudyID",
        "AccessionNumber",
    ],
    "General Series (C.7.3.1)": ["SeriesNumber"],
    "General Image (C.7.6.1)": ["InstanceNumber", "PatientOrientation"],  # orientation: 2C, no plane position
}
FILE_META_TYPE1 = [
    "FileMetaInformationVersion",
    "MediaStorageSOPClassUID",
    "MediaStorageSOPInstanceUID",
    "TransferSyntaxUID",
    "ImplementationClassUID",
]


def missing_required(ds: Dataset) -> list[str]:
    """Names of required attributes that are absent (Type 1 and 2) or empty (Type 1)."""
    problems = [f"{module}: {kw} missing" for module, kws in SC_TYPE2.items() for kw in kws if kw not in ds]
    for module, kws in SC_TYPE1.items():
        problems += [
            f"{module}: {kw} missing or empty" for kw in kws if kw not in ds or ds[kw].value in (None, "")
        ]
    problems += [f"file meta: {kw}" for kw in FILE_META_TYPE1 if not ds.file_meta.get(kw)]
    if ds.get("SamplesPerPixel", 1) > 1 and "PlanarConfiguration" not in ds:
        problems.append("Image Pixel: PlanarConfiguration required for colour")
    return problems


def read_dicoms(zip_path: Path) -> dict[str, Dataset]:
    """Every .dcm of an export, read back with pydicom in strict mode (values must fit their VRs)."""
    out = {}
    with zipfile.ZipFile(zip_path) as archive, pydicom.config.strict_reading():
        for name in archive.namelist():
            if name.endswith(".dcm"):
                ds = out[name] = pydicom.dcmread(io.BytesIO(archive.read(name)))
                for element in [*ds.file_meta, *ds]:  # converting each value checks it against its VR
                    assert element.value is not None or element.VR != "UI", element
                ds.pixel_array  # noqa: B018 - decoding must work
    return out


@pytest.fixture
def dicom_training_set(tmp_path) -> tuple[str, dict[str, set[str]]]:
    """A labelled DICOM dataset with real-looking identities, imported; returns its name and identifiers."""
    folder, rng = tmp_path / "train_dicom", np.random.default_rng(1)
    ids: dict[str, set[str]] = {"patients": set(), "uids": set()}
    for i in range(6):
        label = ("mass", "normal")[i % 2]
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        ds.PatientName, ds.PatientID = f"Doe^Jane{i}", f"TRAINPAT{i // 2:04d}"
        ds.Modality = "US"
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows = ds.Columns = 32
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PixelData = rng.integers(0, 256, (32, 32), dtype=np.uint8).tobytes()
        (folder / label).mkdir(parents=True, exist_ok=True)
        ds.save_as(folder / label / f"img{i}.dcm", enforce_file_format=True)
        ids["patients"].add(ds.PatientID)
        ids["uids"] |= {ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID}
    dataset = ingest(folder, "dicom-train", resolution=32).dataset
    assert set(load_manifest(dataset)["patient_id"]) == ids["patients"]
    return dataset.name, ids


def test_secondary_capture_attributes_and_no_training_identity(tmp_path, dicom_training_set):
    name, train_ids = dicom_training_set
    gen = make_generator(tmp_path, dataset=name)
    out = export_generator(gen, 3, per_class=True, fmt="dicom", out=tmp_path / "sc.zip", seed=4)
    files = read_dicoms(out)
    assert len(files) == 6
    for path, ds in files.items():
        assert missing_required(ds) == [], path
        assert ds.SOPClassUID == SecondaryCaptureImageStorage == ds.file_meta.MediaStorageSOPClassUID
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
        assert ds.ConversionType == "SYN" and list(ds.ImageType)[:2] == ["DERIVED", "SECONDARY"]
        assert ds.BurnedInAnnotation == "NO" and ds.PatientName == "SYNTHETIC^MEDGAN"
        assert "SYNTHETIC" in ds.SeriesDescription and "not for diagnosis" in ds.ImageComments
        assert (ds.PhotometricInterpretation, ds.BitsAllocated, ds.Rows) == ("MONOCHROME2", 8, 32)
        for uid in (ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID):
            assert UID(uid).is_valid
    assert len({ds.SOPInstanceUID for ds in files.values()}) == 6
    assert len({ds.StudyInstanceUID for ds in files.values()}) == 1
    assert len({ds.SeriesInstanceUID for ds in files.values()}) == 2  # one series per class
    exported = {str(ds.PatientID) for ds in files.values()}
    assert len(exported) == 1 and exported.pop().startswith("SYNTHETIC-")  # one synthetic patient per export
    assert not exported & train_ids["patients"]
    for cls in ("mass", "normal"):  # instance numbers 1..n in file order within each class's series
        numbers = [int(files[f"dicom/{cls}/{cls}_{i:05d}.dcm"].InstanceNumber) for i in range(3)]
        assert numbers == [1, 2, 3]
    assert {int(ds.SeriesNumber) for ds in files.values()} == {1, 2}
    # nothing of the training set's identity appears anywhere in the archive, datasheet included
    blob = out.read_bytes()
    with zipfile.ZipFile(out) as archive:
        blob += b"".join(archive.read(n) for n in archive.namelist())
    for secret in train_ids["patients"] | train_ids["uids"] | {"Doe^Jane0"}:
        assert secret.encode() not in blob


def test_uids_are_new_per_export_and_stable_per_seed(tmp_path):
    gen = make_generator(tmp_path)
    uids = {}
    for seed, n in ((1, 2), (1, 2), (2, 2), (1, 3)):
        out = export_generator(
            gen, n, per_class=True, fmt="dicom", out=tmp_path / f"{seed}-{n}.zip", seed=seed
        )
        uids.setdefault((seed, n), []).append(
            {
                u
                for ds in read_dicoms(out).values()
                for u in (ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID)
            }
        )
    assert uids[(1, 2)][0] == uids[(1, 2)][1]
    assert not uids[(1, 2)][0] & uids[(2, 2)][0]
    assert not uids[(1, 2)][0] & uids[(1, 3)][0]  # a different export with overlapping images: new UIDs too


def test_dicom_pixels_read_back_by_pydicom_and_the_importer(tmp_path):
    gen = make_generator(tmp_path)
    out = export_generator(gen, 3, per_class=True, fmt="both", out=tmp_path / "both.zip", seed=9)
    files = read_dicoms(out)
    with zipfile.ZipFile(out) as archive:
        archive.extractall(tmp_path / "unzipped")

    expected = {
        b.class_name: gen.sample(b.count, label=b.label, seed=b.sample_seed)
        for b in plan_batches(gen.class_names, 3, True, 9)
    }
    assert np.array_equal(files["dicom/normal/normal_00002.dcm"].pixel_array, expected["normal"][2, 0])
    result = ingest(tmp_path / "unzipped" / "dicom", "from-dicom", resolution=32)
    assert result.dataset.classes == {"mass": 3, "normal": 3} and result.skipped == []
    images = np.asarray(load_images(result.dataset).images)
    assert np.array_equal(images, np.concatenate([expected["mass"], expected["normal"]]))  # identity window
    assert load_manifest(result.dataset)["patient_id"].str.startswith("SYNTHETIC-").all()


def test_rgb_export_is_rgb_secondary_capture(tmp_path):
    gen = make_generator(tmp_path, channels=3, class_names=["lesion"], resolution=16)
    out = export_generator(gen, 2, per_class=True, fmt="dicom", out=tmp_path / "rgb.zip")
    ds = read_dicoms(out)["dicom/lesion/lesion_00001.dcm"]
    assert missing_required(ds) == []
    assert (ds.PhotometricInterpretation, ds.SamplesPerPixel, ds.PlanarConfiguration) == ("RGB", 3, 0)

    batch = plan_batches(["lesion"], 2, True, 0)[0]
    image = gen.sample(2, label="lesion", seed=batch.sample_seed)[1]
    assert np.array_equal(ds.pixel_array, np.moveaxis(image, 0, -1))


@pytest.mark.skipif(
    shutil.which("dciodvfy") is None and not os.environ.get("CI"),
    reason="dicom3tools (dciodvfy) is installed by the README's test command",
)
def test_dciodvfy_finds_no_errors(tmp_path):
    """dicom3tools' IOD validator reports no error for a grey and an RGB export (warnings allowed)."""
    for channels in (1, 3):
        gen = make_generator(tmp_path, channels=channels, class_names=["a"], resolution=16)
        out = export_generator(gen, 1, per_class=True, fmt="dicom", out=tmp_path / f"v{channels}.zip")
        with zipfile.ZipFile(out) as archive:
            (tmp_path / f"v{channels}.dcm").write_bytes(archive.read("dicom/a/a_00000.dcm"))
        report = subprocess.run(
            ["dciodvfy", str(tmp_path / f"v{channels}.dcm")], capture_output=True, text=True
        )
        text = report.stdout + report.stderr
        assert "SCImage" in text and "Error" not in text, text


def _stack_file(tmp_path: Path, frames: int = 4) -> tuple[Path, np.ndarray]:
    """A one-stack DICOM export of a fake 2.5D generator, and the stack it generated."""
    gen = make_generator(tmp_path, channels=frames, class_names=["a"], resolution=16)
    out = export_generator(gen, 1, per_class=True, fmt="dicom", out=tmp_path / "stack.zip", seed=3)
    path = tmp_path / "stack.dcm"
    with zipfile.ZipFile(out) as archive:
        path.write_bytes(archive.read("dicom/a/a_00000.dcm"))
    return path, gen.sample(1, label="a", seed=gen.calls[0][2])[0]


def test_stack_is_one_multiframe_grayscale_byte_sc(tmp_path):
    """A 2.5D stack is one Multi-frame Grayscale Byte SC instance with its N frames, same synthetic patient."""
    path, stack = _stack_file(tmp_path)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7.2"
    assert ds.NumberOfFrames == 4 and ds.PatientName == "SYNTHETIC^MEDGAN"
    assert ds.PatientID.startswith("SYNTHETIC-") and ds.BurnedInAnnotation == "NO"
    assert ds.FrameIncrementPointer == pydicom.tag.Tag("PageNumberVector")
    assert np.array_equal(ds.pixel_array, stack)


@pytest.mark.skipif(
    shutil.which("dciodvfy") is None and not os.environ.get("CI"),
    reason="dicom3tools (dciodvfy) is installed by the README's test command",
)
def test_dciodvfy_finds_no_errors_in_a_stack(tmp_path):
    """dciodvfy recognises the multi-frame IOD and reports no error for a 2.5D stack."""
    path, _ = _stack_file(tmp_path)
    report = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
    text = report.stdout + report.stderr
    assert "MultiframeGrayscaleByteSCImage" in text and "Error" not in text, text


def test_png_export_of_a_stack_is_refused(tmp_path):
    gen = make_generator(tmp_path, channels=4, class_names=["a"], resolution=16)
    with pytest.raises(ValueError, match="multi-frame DICOM"):
        export_generator(gen, 1, per_class=True, fmt="both", out=tmp_path / "x.zip")
