"""Browser uploads: saved in the workspace, ZIPs extracted safely, folder to ingest chosen right."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from medgan.data.ingest import ingest
from medgan.data.uploads import save_uploads, unpack_uploads
from medgan.data.zipsafe import UnsafeZip


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((12, 12), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_one_zip_with_class_folders(workspace_home):
    data = _zip({f"{c}/{i}.png": _png(i) for c in ("cyst", "solid") for i in range(3)})
    root = unpack_uploads(save_uploads([("cases.zip", data)]))
    assert workspace_home / "uploads" in root.parents and not list(root.parent.glob("*.zip"))
    assert ingest(root, "up", resolution=32).dataset.classes == {"cyst": 3, "solid": 3}


def test_one_zip_per_class_and_loose_files(workspace_home):
    root = unpack_uploads(
        save_uploads([("cyst.zip", _zip({"a.png": _png(1)})), ("solid.zip", _zip({"b.png": _png(2)}))])
    )
    assert ingest(root, "per-class", resolution=32).dataset.classes == {"cyst": 1, "solid": 1}
    loose = unpack_uploads(save_uploads([("../../x.png", _png(5)), ("y.png", _png(6))]))
    assert sorted(p.name for p in loose.iterdir()) == ["x.png", "y.png"]


def test_unsafe_zip_leaves_nothing(workspace_home):
    with pytest.raises(UnsafeZip, match="evil.zip"):
        unpack_uploads(save_uploads([("evil.zip", _zip({"../../escape.png": _png(1)}))]))
    assert list((workspace_home / "uploads").iterdir()) == []
    with pytest.raises(ValueError, match="no files"):
        save_uploads([])
