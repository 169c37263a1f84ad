"""A second import of unchanged files with the same settings reuses the first import's cache, without decoding.

The fingerprint hashes the settings (labels and the label CSV's bytes, resolution, channels, read options,
seed) and every source file's relative path, size and modification time; any change means a fresh import.
Cache files are hard-linked (copied where links are impossible), so deleting either dataset keeps the other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

from medgan.data.readers import ReadOptions
from medgan.data.store import DatasetInfo, list_datasets

FINGERPRINT_FILE = "fingerprint.txt"


def fingerprint(
    source: Path,
    files: list[Path],
    labels: str,
    resolution: int,
    channels: str,
    options: ReadOptions,
    seed: int,
    grouping=None,
) -> str:
    """SHA-256 over the import settings (``grouping``: a dataclass of patient/duplicate options) and the
    source ``files``' paths, sizes and modification times."""
    settings = {
        "labels": labels,
        "resolution": resolution,
        "channels": channels,
        "seed": seed,
        "options": dataclasses.asdict(options),
        **({"grouping": dataclasses.asdict(grouping)} if grouping is not None else {}),
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    if labels.startswith("csv:"):
        digest.update(Path(labels[4:]).read_bytes())
    for path in files:
        stat = path.stat()
        rel = path.name if path == source else path.relative_to(source).as_posix()
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def find_reusable(key: str, resolution: int) -> DatasetInfo | None:
    """A registered dataset imported with fingerprint ``key`` whose base cache is still there."""
    for info in list_datasets(all_versions=True, archived=True):
        marker = info.folder / FINGERPRINT_FILE
        if (
            marker.is_file()
            and marker.read_text() == key
            and info.base_resolution == resolution
            and (info.folder / f"cache_{resolution}.npy").is_file()
        ):
            return info
    return None


def copy_dataset_files(previous: DatasetInfo, folder: Path) -> None:
    """Manifest, ingestion report and caches of ``previous`` into ``folder`` (caches hard-linked when possible)."""
    for name in ("manifest.csv", "skipped.csv", "ingest_report.json", "duplicates.csv"):
        if (previous.folder / name).is_file():
            shutil.copy2(previous.folder / name, folder / name)
    for cache in previous.folder.glob("cache_*.npy"):
        try:
            os.link(cache, folder / cache.name)
        except OSError:
            shutil.copy2(cache, folder / cache.name)
