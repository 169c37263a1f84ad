"""Turn a folder, file or ZIP into a registered dataset: manifest, base cache, splits, ingestion report.

One bad file never stops an import: it becomes a row (file, reason) in ``skipped.csv``. The dataset is
built in a staging folder and registered in one transaction at the end, so an import that fails or is
killed leaves every existing dataset untouched. Re-importing unchanged files with the same settings reuses
the earlier import's cache (:mod:`medgan.data.reuse`).
"""

from __future__ import annotations

import csv
import dataclasses
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from medgan import workspace
from medgan.data.cache import NpyStreamWriter, cache_path, keep_rows
from medgan.data.decode import decode_files, default_workers
from medgan.data.duplicates import area_sums, normalised_features, pixel_hashes
from medgan.data.frames import Frame, SkippedFile
from medgan.data.grouping import GroupingOptions, group_manifest, load_report, write_report
from medgan.data.imageops import channel_note, is_colour, to_grayscale
from medgan.data.readers import ReadOptions
from medgan.data.reuse import FINGERPRINT_FILE, copy_dataset_files, find_reusable, fingerprint
from medgan.data.store import DatasetInfo, load_skipped, register_dataset
from medgan.data.zipsafe import skipped_entries

Progress = Callable[[int, int, str], None]
UNLABELLED = "unlabelled"


class NothingReadable(ValueError):
    """Raised when not one image could be read from a source; carries the skipped list."""

    def __init__(self, source: str, skipped: list[SkippedFile]) -> None:
        reasons = "; ".join(f"{s.file}: {s.reason}" for s in skipped[:5])
        where = Path(source).name or source  # the name only: no server path in a message a user sees
        super().__init__(f"no readable images in {where}" + (f" ({reasons})" if reasons else ""))
        self.skipped = skipped


@dataclass
class IngestResult:
    """What an import produced."""

    dataset: DatasetInfo
    skipped: list[SkippedFile] = field(default_factory=list)
    reused_from: str | None = None  # the dataset whose cache an unchanged re-import reused
    report: dict = field(default_factory=dict)  # patient rule and duplicate summary (medgan.data.grouping)

    def summary(self) -> dict:
        """JSON-ready summary: name, n_images, classes, skipped (and reused_from)."""
        return {
            "name": self.dataset.name,
            "id": self.dataset.id,
            "version": self.dataset.version,
            "fingerprint": self.dataset.fingerprint,
            "n_images": self.dataset.n_images,
            "classes": self.dataset.classes,
            "channels": self.dataset.channels,
            "stack": self.dataset.stack,
            "resolution": self.dataset.base_resolution,
            "skipped": [{"file": s.file, "reason": s.reason} for s in self.skipped],
            "reused_from": self.reused_from,
            "patients": self.report.get("patients", {}),
            "duplicates": self.report.get("duplicates", {}),
        }


def is_stack(options: ReadOptions, channels: int) -> bool:
    """True when images read with ``options`` into ``channels`` channels are 2.5D stacks of adjacent frames
    (``multiframe="stack"``, unless a channel mode collapsed the frames)."""
    return options.multiframe == "stack" and channels == options.stack_depth


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in path.relative_to(root).parts)


def list_source_files(root: Path) -> list[Path]:
    """Every regular, non-hidden file under ``root`` (or ``root`` itself), sorted for a stable order.

    The workspace is never a source, even when it lies inside ``root``."""
    if root.is_file():
        return [root]
    home, resolved = workspace.home(), root.resolve()
    inside = root / home.relative_to(resolved) if resolved in home.parents else None
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and not p.is_symlink()
        and not _is_hidden(p, root)
        and (inside is None or inside not in p.parents)
    )


def _read_label_csv(path: Path) -> dict[str, dict[str, str]]:
    """``file -> {label, patient_id}`` from a CSV with a file column and a label column."""
    table = pd.read_csv(path, dtype=str).fillna("")
    columns = {c.lower().strip(): c for c in table.columns}
    file_col = next((columns[c] for c in ("file", "filename", "image", "path") if c in columns), None)
    label_col = next((columns[c] for c in ("label", "class", "diagnosis") if c in columns), None)
    if file_col is None or label_col is None:
        raise ValueError(
            f"{path.name}: label CSV needs a 'file' column and a 'label' column, found {list(table.columns)}"
        )
    patient_col = next((columns[c] for c in ("patient_id", "patient", "patientid") if c in columns), None)
    out = {}
    for _, row in table.iterrows():
        entry = {"label": row[label_col]}
        if patient_col:
            entry["patient_id"] = row[patient_col]
        out[row[file_col].replace("\\", "/")] = entry
    return out


def _relative(path: Path, root: Path) -> str:
    """``path`` below ``root`` with ``/`` separators (the file name when ``path`` is ``root``)."""
    return path.relative_to(root).as_posix() if path != root else path.name


def _label_for(frame: Frame, path: Path, rel: str, labels: str, csv_labels: dict) -> str | None:
    if labels.startswith("csv:"):
        entry = csv_labels.get(rel) or csv_labels.get(path.name)
        return entry["label"] if entry else None
    if frame.label is not None:
        return frame.label
    if labels == "folders" and "/" in rel:
        return rel.split("/", 1)[0]
    return UNLABELLED


def _patient_for(frame: Frame, path: Path, rel: str, csv_labels: dict) -> str | None:
    """The patient id the file (or label CSV) gives; None leaves it to the file-name rule."""
    if frame.patient_id:
        return frame.patient_id
    entry = csv_labels.get(rel) or csv_labels.get(path.name) or {}
    return entry.get("patient_id") or (f"{rel}#{frame.frame}" if path.suffix.lower() == ".npz" else None)


@dataclass(frozen=True)
class _ImportJob:
    """One import's identity (new dataset id and name) and the settings its files are read with."""

    name: str
    dataset_id: str
    source: str
    description: str
    labels: str
    resolution: int
    channels: str
    options: ReadOptions
    seed: int
    grouping: GroupingOptions


def ingest(
    source: str | Path,
    name: str,
    *,
    labels: str = "folders",
    resolution: int = 128,
    channels: str = "auto",
    options: ReadOptions | None = None,
    seed: int = 0,
    replace: bool = False,
    description: str = "",
    progress: Progress | None = None,
    workers: int | None = None,
    reuse: bool = True,
    skipped_before: list[SkippedFile] | None = None,
    grouping: GroupingOptions | None = None,
) -> IngestResult:
    """Import ``source`` (folder, file or ZIP) as dataset ``name``.

    Args:
        labels: ``folders`` (first sub-folder), ``csv:PATH`` (file,label[,patient_id]), ``tag:KEYWORD``
            (DICOM attribute) or ``none``.
        resolution: side of the square base cache (32-256); other resolutions derive from it.
        channels: ``auto`` (RGB when any image is in colour, grey images then repeated over R, G, B; else
            one channel), ``gray`` or ``rgb``.
        workers: decoding workers (default: 1 for tiny imports, else twice the usable CPUs, at most 4).
        reuse: reuse the cache of an earlier import of the same unchanged files with the same settings.
        skipped_before: report rows from before decoding (e.g. instances a PACS did not deliver).
        grouping: patient-id rule and duplicate handling (:mod:`medgan.data.grouping`).
    Raises:
        NothingReadable: when no image at all could be read.
    """
    options = options or ReadOptions()
    grouping = grouping or GroupingOptions()
    if labels.startswith("tag:"):
        options.label_tag = labels.split(":", 1)[1]
    source_path = Path(source).expanduser()
    if not source_path.exists():
        raise FileNotFoundError(f"{source_path}: no such file or folder")
    dataset_id = uuid.uuid4().hex[:12]
    staging = workspace.subdir("datasets", f".staging-{dataset_id}")
    try:
        sources = list_source_files(source_path)
        key = fingerprint(source_path, sources, labels, resolution, channels, options, seed, grouping)
        previous = find_reusable(key, resolution) if reuse and not skipped_before else None
        if previous is not None:
            result = _reuse(
                previous, staging, name, dataset_id, str(source_path), description, progress, options
            )
        else:
            root = source_path
            if source_path.is_file() and source_path.suffix.lower() == ".zip":
                from medgan.data.zipsafe import safe_extract

                root = safe_extract(source_path, staging / "files")
            csv_labels = _read_label_csv(Path(labels[4:])) if labels.startswith("csv:") else {}
            job = _ImportJob(
                name=name,
                dataset_id=dataset_id,
                source=str(source_path),
                description=description,
                labels=labels,
                resolution=resolution,
                channels=channels,
                options=options,
                seed=seed,
                grouping=grouping,
            )
            result = _build(
                job,
                root,
                sources if root == source_path else list_source_files(root),
                staging,
                csv_labels,
                progress,
                workers,
                skipped_before or [],
            )
            shutil.rmtree(staging / "files", ignore_errors=True)
        (staging / FINGERPRINT_FILE).write_text(key)
        final = workspace.subdir("datasets") / dataset_id
        staging.rename(final)
        result.dataset = register_dataset(result.dataset, replace=replace)
        return result
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(workspace.home() / "datasets" / dataset_id, ignore_errors=True)
        raise


def _reuse(
    previous: DatasetInfo,
    staging: Path,
    name: str,
    dataset_id: str,
    source: str,
    description: str,
    progress: Progress | None,
    options: ReadOptions,
) -> IngestResult:
    """The result of re-importing unchanged files: ``previous``'s manifest, report and caches under a new name
    (the stack flag from ``options``, so stacks imported before the flag existed get it)."""
    copy_dataset_files(previous, staging)
    info = dataclasses.replace(
        previous,
        id=dataset_id,
        name=name,
        source=source,
        description=description,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        stack=is_stack(options, previous.channels),
    )
    skipped = [SkippedFile(row.file, row.reason) for row in load_skipped(previous).itertuples()]
    if progress is not None:
        progress(1, 1, f"unchanged files: reused the cache of {previous.name}")
    return IngestResult(info, skipped, reused_from=previous.name, report=load_report(previous))


def _build(
    job: _ImportJob,
    root: Path,
    files: list[Path],
    staging: Path,
    csv_labels: dict[str, dict[str, str]],
    progress: Progress | None,
    workers: int | None,
    skipped_before: list[SkippedFile],
) -> IngestResult:
    """Decode ``files`` under ``root`` into ``staging``: the image cache, manifest, report and skipped list."""
    skipped: list[SkippedFile] = list(skipped_before) + skipped_entries(root)  # archive entries not extracted
    rows: list[dict] = []
    n_colour = 0
    hashes: list[str] | None = []  # per cached row, for duplicate detection (None: hash the cache at the end)
    features: list[np.ndarray] = []
    writer: NpyStreamWriter | None = None
    label_csv = Path(job.labels[4:]).resolve() if job.labels.startswith("csv:") else None
    files = [f for f in files if label_csv is None or f.resolve() != label_csv]
    done = iter(range(1, len(files) + 1))

    def display(path: Path) -> str:
        return str(path.relative_to(root)) if path != root else path.name

    def file_done(path: Path) -> None:
        if progress is not None:
            progress(next(done), len(files), display(path))

    decoded = decode_files(
        files,
        job.options,
        job.resolution,
        on_done=file_done,
        workers=default_workers(len(files)) if workers is None else workers,
        on_skip=lambda path, reason: skipped.append(SkippedFile(display(path), reason)),
    )
    try:
        for path, (frame, height, width) in decoded:
            pixels = frame.pixels  # (C, resolution, resolution)
            colour = is_colour(pixels)
            n_colour += colour
            if writer is None:
                n_ch = {"gray": 1, "rgb": 3}.get(
                    job.channels, 1 if pixels.shape[0] == 3 and not colour else pixels.shape[0]
                )
                writer = NpyStreamWriter(cache_path(staging, job.resolution), n_ch, job.resolution)
            elif job.channels == "auto" and colour and writer.shape_tail[0] == 1:
                # colour after grey: keep colour; earlier rows changed, so hash the cache at the end
                writer, hashes = writer.widened_to_rgb(), None
            if writer.shape_tail[0] == 1:
                pixels = to_grayscale(pixels)
            elif pixels.shape[0] == 1 and writer.shape_tail[0] == 3:
                pixels = np.repeat(pixels, 3, axis=0)
            if pixels.shape[0] != writer.shape_tail[0]:
                skipped.append(
                    SkippedFile(
                        display(path), f"has {pixels.shape[0]} channels, dataset has {writer.shape_tail[0]}"
                    )
                )
                continue
            rel = _relative(path, root)
            label = _label_for(frame, path, rel, job.labels, csv_labels)
            if label is None:
                skipped.append(SkippedFile(display(path), "no label for this file in the label CSV"))
                continue
            writer.append(pixels)
            # what duplicate detection needs, while the image is at hand (no second read)
            if hashes is not None:
                hashes.append(pixel_hashes(pixels[None])[0])
                features.append(area_sums(pixels[None])[0])
            rows.append(
                {
                    "index": len(rows),
                    "source": display(path),
                    "frame": frame.frame,
                    "label": label,
                    "patient_id": _patient_for(frame, path, rel, csv_labels),
                    "split": frame.split or "",
                    "height": height,
                    "width": width,
                }
            )
        if writer is None or not rows:
            raise NothingReadable(job.source, skipped)
        writer.close()
    except BaseException:
        decoded.close()  # stops the decoding workers early
        if writer is not None and not writer._fh.closed:
            writer.abort()
        raise
    precomputed = (
        (hashes, normalised_features(np.array(features, np.float32).reshape(len(rows), -1)))
        if hashes is not None
        else None
    )
    grouped = group_manifest(
        pd.DataFrame(rows),
        None if precomputed else np.load(writer.path, mmap_mode="r"),
        job.grouping,
        job.seed,
        precomputed,
    )
    skipped += grouped.dropped
    if not grouped.keep.any():
        raise NothingReadable(job.source, skipped)
    keep_rows(writer.path, grouped.keep)
    manifest = grouped.manifest
    manifest.to_csv(staging / "manifest.csv", index=False)
    grouped.report["channels"] = channel_note(job.channels, writer.shape_tail[0], n_colour, len(rows))
    write_report(staging, grouped)
    with open(staging / "skipped.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["file", "reason"])
        out.writerows([(s.file, s.reason) for s in skipped])
    info = DatasetInfo(
        id=job.dataset_id,
        name=job.name,
        source=job.source,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        n_images=len(manifest),
        channels=writer.shape_tail[0],
        base_resolution=job.resolution,
        classes=dict(sorted(Counter(manifest["label"]).items())),
        n_skipped=len(skipped),
        description=job.description,
        stack=is_stack(job.options, writer.shape_tail[0]),
    )
    return IngestResult(info, skipped, report=grouped.report)
