"""Export a labelled synthetic dataset as one ZIP: images per class, ``manifest.csv`` and ``DATASHEET.md``.

Layout: ``png/<class>/<class>_00000.png`` and/or ``dicom/<class>/<class>_00000.dcm``, ``manifest.csv`` (one row
per file) and ``DATASHEET.md`` (source data, model, metrics, intended use, citation). The archive is written
to a temp file beside the target and moved into place with ``os.replace``, so a cancelled or failed export
leaves no partial file (and an older file of that name untouched). Fixed ZIP timestamps, PNG settings and UIDs
derived from the export key make the same request give the same bytes.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from medgan import workspace
from medgan.data.imageops import to_pil
from medgan.data.ingest import UNLABELLED
from medgan.export_datasheet import datasheet
from medgan.export_dicom import DicomSeries, dicom_bytes
from medgan.sampling import split_counts

FORMATS = ("png", "dicom", "both")
EXTENSIONS = {"png": "png", "dicom": "dcm"}
CHUNK = 64  # images per generator call (one progress step)
MAX_IMAGES = 1_000_000
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
MANIFEST_COLUMNS = (
    "file",
    "class",
    "architecture",
    "run_id",
    "checkpoint_sha256",
    "seed",
    "index",
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Batch:
    """One generator call: ``sample(count, label=label, seed=sample_seed, start=start)`` gives the class's images
    ``start .. start + count - 1`` (the seed scheme of :mod:`medgan.sampling`)."""

    class_name: str
    label: str | None  # what the generator is asked for (None for an unconditional run)
    folder: str  # the class's folder name inside png/ and dicom/
    series_number: int
    start: int
    count: int
    sample_seed: int
    digits: int

    def member(self, fmt: str, index: int) -> str:
        """The archive path of image ``index`` of this class in format ``fmt`` (``png`` or ``dicom``)."""
        return f"{fmt}/{self.folder}/{self.folder}_{index:0{self.digits}d}.{EXTENSIONS[fmt]}"


def class_counts(class_names: list[str], n: int, per_class: bool) -> dict[str, int]:
    """Images per class: ``n`` each with ``per_class``, else ``n`` in total split evenly (first classes +1)."""
    if not class_names:
        return {UNLABELLED: n}
    return {name: n for name in class_names} if per_class else split_counts(n, class_names)


def folder_names(class_names: list[str]) -> dict[str, str]:
    """A safe, unique folder name per class (letters, digits, ``._-``; never ``.`` or ``..``)."""
    out: dict[str, str] = {}
    for i, name in enumerate(class_names):
        folder = re.sub(r"[^\w.-]+", "_", name).strip("._") or f"class{i}"
        out[name] = folder if folder not in out.values() else f"{folder}_{i}"
    return out


def plan_batches(class_names: list[str], n: int, per_class: bool, seed: int) -> list[Batch]:
    """The generator calls of an export, in archive order."""
    counts = class_counts(class_names, n, per_class)
    folders = folder_names(list(counts))
    batches = []
    for position, (name, count) in enumerate(counts.items()):
        digits = max(5, len(str(count - 1)))
        for start in range(0, count, CHUNK):
            batches.append(
                Batch(
                    name,
                    name if class_names else None,
                    folders[name],
                    position + 1,
                    start,
                    min(CHUNK, count - start),
                    seed,
                    digits,
                )
            )
    return batches


def file_formats(fmt: str) -> list[str]:
    """The file formats written for an export format: ``both`` -> ``["png", "dicom"]``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return [f for f in EXTENSIONS if fmt in (f, "both")]


def manifest_rows(gen: Any, batches: list[Batch], fmt: str, seed: int) -> list[dict[str, Any]]:
    """One manifest row per file of the archive."""
    rows = []
    for batch in batches:
        for offset in range(batch.count):
            index = batch.start + offset
            for file_format in file_formats(fmt):
                rows.append(
                    {
                        "file": batch.member(file_format, index),
                        "class": batch.class_name,
                        "architecture": gen.arch,
                        "run_id": gen.run_id,
                        "checkpoint_sha256": gen.checkpoint_sha256,
                        "seed": seed,
                        "index": index,
                    }
                )
    return rows


def manifest_csv(rows: list[dict[str, Any]]) -> bytes:
    """``manifest.csv`` bytes (UTF-8, ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def png_bytes(image: np.ndarray) -> bytes:
    """Lossless 8-bit PNG of a (C, H, W) image, encoded the same way every time (no timestamps)."""
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes, compress: bool = True) -> None:
    """Add a member with a fixed timestamp and permissions, so equal content gives equal archive bytes."""
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def export_key(gen: Any, n: int, per_class: bool, fmt: str, seed: int) -> str:
    """What identifies an export (the entropy of its DICOM UIDs)."""
    return f"medgan-export|{gen.checkpoint_sha256}|{gen.run_id}|seed={seed}|n={n}|per_class={per_class}|{fmt}"


def check_request(n: int, fmt: str) -> None:
    """Refuse an impossible request before any generator is loaded."""
    file_formats(fmt)
    if not 1 <= n <= MAX_IMAGES:
        raise ValueError(f"the number of images must be between 1 and {MAX_IMAGES:,}, got {n}")


def _check_generator(gen: Any, fmt: str) -> None:
    """2.5D stacks (flagged ``stack``, or channels other than 1 or 3) go out as multi-frame DICOM only: a PNG
    would keep one slice of each, or show 3 slices as colour; PNG takes grey or RGB."""
    if (gen.stack or gen.channels not in (1, 3)) and "png" in file_formats(fmt):
        raise ValueError(
            f"run {gen.run_id}: PNG export writes 1- or 3-channel images; this generator makes 2.5D stacks "
            f"of {gen.channels} frames, exported as multi-frame DICOM (format dicom)"
        )


def _write_images(
    archive: zipfile.ZipFile, gen: Any, batches: list[Batch], fmt: str, key: str, progress: Progress | None
) -> None:
    total, done, formats = sum(b.count for b in batches), 0, file_formats(fmt)
    generator_name = f"{gen.arch} run {gen.run_id} (step {gen.step})"
    for batch in batches:
        images = gen.sample(batch.count, label=batch.label, seed=batch.sample_seed, start=batch.start)
        series = DicomSeries(key, batch.class_name, batch.series_number, generator_name)
        for offset, image in enumerate(images):
            index = batch.start + offset
            if "png" in formats:  # PNG is compressed already: stored, not deflated again
                _add(archive, batch.member("png", index), png_bytes(image), compress=False)
            if "dicom" in formats:
                _add(archive, batch.member("dicom", index), dicom_bytes(image, series, index, gen.stack))
        done += batch.count
        if progress is not None:
            progress(done, total)


def export_generator(
    gen: Any, n: int, *, per_class: bool, fmt: str, out: Path, seed: int = 0, progress: Progress | None = None
) -> Path:
    """Write the synthetic dataset ZIP of a loaded generator (see :func:`export_synthetic`)."""
    check_request(n, fmt)
    _check_generator(gen, fmt)
    out = Path(out)
    batches = plan_batches(list(gen.class_names), n, per_class, seed)
    rows = manifest_rows(gen, batches, fmt, seed)
    tmp = workspace.temp_path_beside(out)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            _add(archive, "DATASHEET.md", datasheet(gen, batches, fmt, seed).encode("utf-8"))
            _add(archive, "manifest.csv", manifest_csv(rows))
            _write_images(archive, gen, batches, fmt, export_key(gen, n, per_class, fmt, seed), progress)
        tmp.chmod(0o644)  # mkstemp made it private; the export is an ordinary file
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def export_synthetic(
    run_id: str, n: int, per_class: bool, fmt: str, out: Path, seed: int = 0, progress: Progress | None = None
) -> Path:
    """Export ``n`` synthetic images (per class with ``per_class``) of run ``run_id`` (or ``"demo"``) to ``out``.

    Args:
        fmt: ``png``, ``dicom`` (Secondary Capture) or ``both``.
        progress: called as ``progress(images_done, images_total)`` after each generator call; raising from it
            cancels the export and leaves no file.
    Returns:
        ``out``, the finished ZIP.
    """
    from medgan.generate import load_generator  # imports torch: only when an export runs

    check_request(n, fmt)
    return export_generator(
        load_generator(run_id), n, per_class=per_class, fmt=fmt, out=out, seed=seed, progress=progress
    )


def default_export_path(run_id: str, n: int, per_class: bool, fmt: str, seed: int) -> Path:
    """Where the page puts an export: ``workspace/exports/<run>_<n>[-per-class]_<fmt>_seed<seed>.zip``."""
    safe_run = re.sub(r"[^\w.-]+", "_", run_id).strip("._") or "run"
    return (
        workspace.subdir("exports")
        / f"{safe_run}_{n}{'-per-class' if per_class else ''}_{fmt}_seed{seed}.zip"
    )


def list_exports() -> list[Path]:
    """Finished exports in ``workspace/exports`` (temp files of running exports excluded), newest first."""
    files = [p for p in workspace.subdir("exports").glob("*.zip") if p.is_file()]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def read_datasheet(zip_path: Path) -> str:
    """The ``DATASHEET.md`` of an export."""
    with zipfile.ZipFile(zip_path) as archive:
        return archive.read("DATASHEET.md").decode("utf-8")
