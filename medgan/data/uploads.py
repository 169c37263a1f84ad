"""Files a user uploads in the browser: saved under the workspace's ``uploads`` folder, ZIPs safely extracted.

The page passes ``(file name, bytes)`` pairs; :func:`save_uploads` returns the folder to ingest. One ZIP
alone becomes the dataset's root (its class folders give the labels); several ZIPs are extracted into one
folder each, named after the ZIP, so "one ZIP per class" works too. Loose files are saved as they are.
"""

from __future__ import annotations

import io
import shutil
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path

from medgan import workspace
from medgan.data.zipsafe import safe_extract


def _safe_name(name: str) -> str:
    """The file name without any folder part a browser may send."""
    base = Path(name.replace("\\", "/")).name.strip()
    if base in ("", ".", ".."):
        raise ValueError(f"upload {name!r} has no usable file name")
    return base


def save_uploads(files: Iterable[tuple[str, bytes]]) -> Path:
    """Save uploaded files in a fresh ``uploads/<id>`` folder; returns the folder to ingest."""
    files = [(_safe_name(name), data) for name, data in files]
    if not files:
        raise ValueError("no files were uploaded")
    folder = workspace.subdir("uploads", uuid.uuid4().hex[:12])
    roots = []
    try:
        for name, data in files:
            target = folder / name
            workspace.atomic_write_bytes(target, data)
            if name.lower().endswith(".zip"):
                dest = folder / ("files" if len(files) == 1 else name[:-4])
                try:
                    roots.append(safe_extract(target, dest))
                finally:
                    target.unlink()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return roots[0] if len(roots) == 1 and len(files) == 1 else folder


def upload_names(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """The relative paths :func:`save_uploads` would give the uploaded files (ZIP members listed, not
    extracted), so a patient rule can be previewed before importing."""
    files = [(_safe_name(name), data) for name, data in files]
    names = []
    for name, data in files:
        if not name.lower().endswith(".zip"):
            names.append(name)
            continue
        prefix = "" if len(files) == 1 else name[:-4] + "/"
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names += [prefix + m for m in archive.namelist() if not m.endswith("/") and "__MACOSX" not in m]
        except zipfile.BadZipFile:
            names.append(name)
    return names
