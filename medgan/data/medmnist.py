"""MedMNIST v2 2D sets by name: class names for the ``.npz`` reader and checksummed downloads when online.

Source of the table: MedMNIST v2 (Yang J. et al., "MedMNIST v2 - A large-scale lightweight benchmark for 2D
and 3D biomedical image classification", Scientific Data 10, 41, 2023), Zenodo record 5208230, whose
``INFO`` lists each file's URL, MD5 and label names. Cite the dataset's own source paper as well.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from medgan import workspace

ZENODO_URL = "https://zenodo.org/records/5208230/files/{name}.npz?download=1"
_ORGANS = (
    "bladder",
    "femur-left",
    "femur-right",
    "heart",
    "kidney-left",
    "kidney-right",
    "liver",
    "lung-left",
    "lung-right",
    "pancreas",
    "spleen",
)


@dataclass(frozen=True)
class MedMNISTSet:
    """One MedMNIST 2D set: its MD5, class names (index -> name) and whether labels are multi-label."""

    md5: str
    classes: tuple[str, ...]
    multi_label: bool = False
    licence: str = "CC BY 4.0"


MEDMNIST: dict[str, MedMNISTSet] = {
    "pathmnist": MedMNISTSet(
        "a8b06965200029087d5bd730944a56c1",
        (
            "adipose",
            "background",
            "debris",
            "lymphocytes",
            "mucus",
            "smooth muscle",
            "normal colon mucosa",
            "cancer-associated stroma",
            "colorectal adenocarcinoma epithelium",
        ),
    ),
    "chestmnist": MedMNISTSet(
        "02c8a6516a18b556561a56cbdd36c4a8",
        (
            "atelectasis",
            "cardiomegaly",
            "effusion",
            "infiltration",
            "mass",
            "nodule",
            "pneumonia",
            "pneumothorax",
            "consolidation",
            "edema",
            "emphysema",
            "fibrosis",
            "pleural",
            "hernia",
        ),
        multi_label=True,
        licence="CC0 1.0",
    ),
    "dermamnist": MedMNISTSet(
        "0744692d530f8e62ec473284d019b0c7",
        (
            "actinic keratoses and intraepithelial carcinoma",
            "basal cell carcinoma",
            "benign keratosis-like lesions",
            "dermatofibroma",
            "melanoma",
            "melanocytic nevi",
            "vascular lesions",
        ),
        licence="CC BY-NC 4.0",
    ),
    "octmnist": MedMNISTSet(
        "c68d92d5b585d8d81f7112f81e2d0842",
        ("choroidal neovascularization", "diabetic macular edema", "drusen", "normal"),
    ),
    "pneumoniamnist": MedMNISTSet("28209eda62fecd6e6a2d98b1501bb15f", ("normal", "pneumonia")),
    "retinamnist": MedMNISTSet("bd4c0672f1bba3e3a89f0e4e876791e4", ("0", "1", "2", "3", "4")),
    # MedMNIST's label 1 is "normal, benign"; written without the comma so it is safe in file and folder names.
    "breastmnist": MedMNISTSet("750601b1f35ba3300ea97c75c52ff8f6", ("malignant", "normal or benign")),
    "bloodmnist": MedMNISTSet(
        "7053d0359d879ad8a5505303e11de1dc",
        ("basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte", "neutrophil", "platelet"),
    ),
    "organamnist": MedMNISTSet("866b832ed4eeba67bfb9edee1d5544e6", _ORGANS),
    "organcmnist": MedMNISTSet("0afa5834fb105f7705a7d93372119a21", _ORGANS),
    "organsmnist": MedMNISTSet("e5c39f1af030238290b9557d9503af9d", _ORGANS),
}


class DownloadError(RuntimeError):
    """A MedMNIST download failed (offline, HTTP error, or checksum mismatch); the message says what to do."""


def known_set(file_name: str) -> MedMNISTSet | None:
    """The MedMNIST set a file belongs to, from its name (``breastmnist.npz``, ``breastmnist_128.npz``)."""
    stem = Path(file_name).name.lower().split(".")[0]
    return MEDMNIST.get(stem.split("_")[0])


def download(name: str, timeout: float = 30.0) -> Path:
    """The ``.npz`` of MedMNIST set ``name`` in the workspace, downloaded and MD5-checked on first use."""
    key = name.lower()
    if key not in MEDMNIST:
        raise DownloadError(f"unknown MedMNIST set {name!r}; known: {', '.join(sorted(MEDMNIST))}")
    expected = MEDMNIST[key].md5
    target = workspace.subdir("downloads", "medmnist") / f"{key}.npz"
    if target.exists() and workspace.file_digest(target, "md5") == expected:
        return target
    url = ZENODO_URL.format(name=key)
    tmp = workspace.temp_path_beside(target)
    try:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                while chunk := response.read(1024**2):
                    out.write(chunk)
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(
                f"cannot download {key} from {url} ({reason}); are you offline? Download the file by hand and run "
                f"`python -m medgan ingest PATH/{key}.npz --name {key}`"
            ) from exc
        got = workspace.file_digest(tmp, "md5")
        if got != expected:
            raise DownloadError(
                f"{key}.npz from {url} has MD5 {got}, expected {expected}; the download is "
                "corrupt or the file changed upstream, so it was not used"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
