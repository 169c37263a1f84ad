"""MedMNIST downloads: clear offline error, checksum verified (file:// URLs stand in for Zenodo; no network)."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request

import pytest

from medgan.data import medmnist
from medgan.data.medmnist import MEDMNIST, DownloadError, MedMNISTSet, download, known_set
from medgan.workspace import file_digest


@pytest.fixture
def local_zenodo(tmp_path, shared_data, monkeypatch):
    """A folder served through file:// URLs holding the shared breastmnist.npz."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(shared_data / "breastmnist" / "breastmnist.npz", mirror / "breastmnist.npz")
    monkeypatch.setattr(medmnist, "ZENODO_URL", mirror.as_uri() + "/{name}.npz")
    return mirror


def test_offline_gives_a_clear_message(monkeypatch, workspace_home):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DownloadError, match="cannot download pneumoniamnist .* are you offline") as err:
        download("pneumoniamnist")
    assert "python -m medgan ingest" in str(err.value)
    assert list((workspace_home / "downloads" / "medmnist").iterdir()) == []


def test_checksum_match_and_mismatch(local_zenodo, monkeypatch, workspace_home):
    good = file_digest(local_zenodo / "breastmnist.npz", "md5")
    monkeypatch.setitem(MEDMNIST, "breastmnist", MedMNISTSet(good, MEDMNIST["breastmnist"].classes))
    path = download("BreastMNIST")
    assert (
        path == workspace_home / "downloads" / "medmnist" / "breastmnist.npz"
        and file_digest(path, "md5") == good
    )
    path.unlink()
    monkeypatch.setitem(MEDMNIST, "breastmnist", MedMNISTSet("0" * 32, MEDMNIST["breastmnist"].classes))
    with pytest.raises(DownloadError, match=f"has MD5 {good}, expected 0{{32}}"):
        download("breastmnist")
    assert list((workspace_home / "downloads" / "medmnist").iterdir()) == []


def test_unknown_name_and_class_lookup():
    with pytest.raises(DownloadError, match="unknown MedMNIST set 'nosuchmnist'; known: .*breastmnist"):
        download("nosuchmnist")
    assert known_set("breastmnist_128.npz").classes == ("malignant", "normal or benign")
    assert known_set("other.npz") is None
