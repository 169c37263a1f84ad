"""Safe ZIP extraction: traversal, absolute paths, symlinks and bombs refused; good ZIPs extract and ingest."""

from __future__ import annotations

import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from medgan.data.ingest import ingest
from medgan.data.zipsafe import UnsafeZip, safe_extract


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _zip(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _leftovers(dest):
    return [p for p in dest.rglob("*") if p.is_file()] if dest.exists() else []


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("../evil.png", r"outside the archive \(\.\.\)"),
        ("data/../../evil.png", r"\(\.\.\)"),
        ("/etc/evil.png", "absolute path"),
        ("C:/evil.png", "absolute path"),
    ],
)
def test_path_tricks_are_refused(tmp_path, entry, why):
    zpath = _zip(tmp_path / "up.zip", {"ok/a.png": _png(1), entry: _png(2)})
    with pytest.raises(UnsafeZip, match=why) as err:
        safe_extract(zpath, tmp_path / "out")
    assert "up.zip" in str(err.value) and entry in str(err.value)
    assert _leftovers(tmp_path / "out") == [] and not (tmp_path / "evil.png").exists()


def test_symlink_entry_is_refused(tmp_path):
    zpath = tmp_path / "link.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        info = zipfile.ZipInfo("data/passwd")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeZip, match="symbolic link"):
        safe_extract(zpath, tmp_path / "out")


def test_zip_bomb_is_refused_by_ratio(tmp_path):
    zpath = _zip(tmp_path / "bomb.zip", {"a.png": _png(3), "zeros.dcm": bytes(20 * 1024**2)})
    assert zpath.stat().st_size < 100_000
    with pytest.raises(UnsafeZip, match="zeros.dcm.*likely ZIP bomb"):
        safe_extract(zpath, tmp_path / "out")


def test_total_size_and_file_count_limits(tmp_path):
    zpath = _zip(tmp_path / "many.zip", {f"f{i}.png": _png(i) for i in range(5)})
    with pytest.raises(UnsafeZip, match="5 entries, more than the limit of 4"):
        safe_extract(zpath, tmp_path / "out", max_files=4)
    with pytest.raises(UnsafeZip, match="uncompressed, more than the limit"):
        safe_extract(zpath, tmp_path / "out", max_total_bytes=100)


def test_lying_headers_are_caught_while_streaming(tmp_path):
    """A bomb whose headers claim 1,000 bytes: extraction stops at the real data, nothing is left behind."""
    zpath = _zip(tmp_path / "liar.zip", {"a.png": _png(3), "big.dcm": bytes(4 * 1024**2)})
    data = bytearray(zpath.read_bytes())
    real = (4 * 1024**2).to_bytes(4, "little")
    assert data.count(real) == 2  # the local header and the central directory entry
    zpath.write_bytes(bytes(data).replace(real, (1000).to_bytes(4, "little")))
    with pytest.raises(UnsafeZip, match="liar.zip: cannot extract"):
        safe_extract(zpath, tmp_path / "out")
    assert _leftovers(tmp_path / "out") == []


def test_not_a_zip(tmp_path):
    (tmp_path / "x.zip").write_text("plain text")
    with pytest.raises(UnsafeZip, match="x.zip: not a readable ZIP"):
        safe_extract(tmp_path / "x.zip", tmp_path / "out")


def test_good_zip_extracts_and_ingests_with_folder_labels(tmp_path):
    entries = {f"study/{label}/{i}.png": _png(40 * i) for label in ("benign", "malignant") for i in range(3)}
    entries["__MACOSX/study/._x"] = b"resource fork"
    zpath = _zip(tmp_path / "study.zip", entries)
    root = safe_extract(zpath, tmp_path / "out")
    assert root == (tmp_path / "out" / "study").resolve() and len(list(root.rglob("*.png"))) == 6
    result = ingest(zpath, "zipped", resolution=32)
    assert result.dataset.classes == {"benign": 3, "malignant": 3} and result.skipped == []


def test_bad_zip_fails_ingest_cleanly(tmp_path, workspace_home):
    zpath = _zip(tmp_path / "bad.zip", {"../x.png": _png(1)})
    with pytest.raises(ValueError, match="bad.zip"):
        ingest(zpath, "bad")
    assert not any((workspace_home / "datasets").iterdir())
