"""Files a user uploads in the browser: saved under the workspace's ``uploads`` folder, ZIPs safely extracted.

The page passes ``(file name, bytes)`` pairs to :func:`save_uploads`, which only stores them; the import
job calls :func:`unpack_uploads`, which extracts the ZIPs and returns the folder to ingest. One ZIP
alone becomes the dataset's root (its class folders give the labels); several ZIPs are extracted into one
folder each, named after the ZIP, so "one ZIP per class" works too. Loose files are saved as they are.
"""

from __future__ import annotations

import io
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterable
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
    """Save uploaded files as they are in a fresh ``uploads/<id>`` folder and return it: quick, so the page
    does only this; ZIPs are extracted by :func:`unpack_uploads` in the import job."""
    files = [(_safe_name(name), data) for name, data in files]
    if not files:
        raise ValueError("no files were uploaded")
    folder = workspace.subdir("uploads", uuid.uuid4().hex[:12])
    try:
        for name, data in files:
            workspace.atomic_write_bytes(folder / name, data)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def unpack_uploads(folder: Path, progress: Callable[[str], None] | None = None) -> Path:
    """Extract the ZIPs that :func:`save_uploads` stored in ``folder``; returns the folder to ingest.

    One ZIP alone becomes the dataset's root (its class folders give the labels); several ZIPs go into one
    folder each, named after the ZIP. ``progress(message)`` is called before each ZIP. A refused or broken
    ZIP raises :class:`~medgan.data.zipsafe.UnsafeZip` naming it, and the whole upload folder is removed
    (nothing else in the workspace is touched).
    """
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    zips = [p for p in files if p.suffix.lower() == ".zip"]
    roots = []
    try:
        for i, target in enumerate(zips, 1):
            if progress is not None:
                progress(f"unpacking {target.name} ({i}/{len(zips)})")
            roots.append(safe_extract(target, folder / ("files" if len(files) == 1 else target.stem)))
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
                names += [
                    prefix + m for m in archive.namelist() if not m.endswith("/") and "__MACOSX" not in m
                ]
        except zipfile.BadZipFile:
            names.append(name)
    return names
