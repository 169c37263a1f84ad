"""Ingestion benchmark: DICOM folder ingest vs a plain pydicom loop, cache reuse, and peak memory at 10,000 images.

Run: ``python bench/ingest.py`` (``--files``, ``--size``, ``--memory-images``, ``--repeats``; see ``--help``).
Everything is measured in this run on this machine; the numbers to compare are the ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def write_ct_folder(folder: Path, n_files: int, size: int, seed: int = 0) -> list[Path]:
    """``n_files`` CT-like int16 DICOM slices (two class folders, 10 slices per patient), windowed 40/400.

    Each slice has its own body outline and an organ blob, so slices are not near-duplicates of each other
    (the importer groups near-identical images, which would make one group of a folder of copies)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    paths = []
    for i in range(n_files):
        label = "lesion" if i % 2 else "normal"
        cy, cx, ry, rx, oy, ox = rng.uniform([0.4, 0.4, 0.25, 0.3, 0.3, 0.3], [0.6, 0.6, 0.4, 0.45, 0.7, 0.7])
        body = (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1).astype(np.float32)
        organ = 60 * np.exp(-(((yy - oy) ** 2 + (xx - ox) ** 2) / 0.01))
        hu = -1000 + body * (1040 + organ + rng.normal(0, 20, (size, size)))
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, generate_uid()
        ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = (
            ds.SOPClassUID,
            ds.SOPInstanceUID,
        )
        ds.Modality, ds.PatientID = "CT", f"BENCH{i // 10:05d}"
        ds.set_pixel_data((hu + 1024).astype(np.int16), "MONOCHROME2", 16)
        ds.RescaleIntercept, ds.RescaleSlope, ds.WindowCenter, ds.WindowWidth = -1024, 1, 40, 400
        path = folder / label / f"IM{i:06d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def plain_loop(paths: list[Path], resolution: int) -> np.ndarray:
    """The reference: dcmread + pixel_array + resize to ``resolution`` into one array, nothing else."""
    out = np.empty((len(paths), resolution, resolution), np.float32)
    for i, path in enumerate(paths):
        arr = pydicom.dcmread(path).pixel_array.astype(np.float32)
        out[i] = np.asarray(Image.fromarray(arr).resize((resolution, resolution), Image.Resampling.LANCZOS))
    return out


_CPU: dict[str, list[float]] = {}  # CPU seconds of this process and its finished children per labelled run


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished (joined) children, e.g. decoding workers."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _timed(fn, label: str = "") -> float:
    """Wall-clock seconds of ``fn()``; with a label, its CPU seconds (workers included) are kept in ``_CPU``."""
    start, cpu = time.perf_counter(), _cpu_seconds()
    fn()
    if label:
        _CPU.setdefault(label, []).append(_cpu_seconds() - cpu)
    return time.perf_counter() - start


def speed(folder: Path, paths: list[Path], repeats: int, resolution: int) -> None:
    """Files per second: plain loop, ingest with one worker and with several (alternating runs);
    then the second use of the data, served from the cache, against a re-ingest."""
    from medgan.data.decode import _can_fork, default_workers
    from medgan.data.ingest import ingest
    from medgan.data.store import get_dataset, load_images

    workers = max(2, default_workers(len(paths)))
    runs: dict[str, list[float]] = {"plain": [], "ingest1": [], "ingestN": []}
    for r in range(repeats):
        runs["plain"].append(_timed(lambda: plain_loop(paths, resolution), "plain"))
        runs["ingest1"].append(
            _timed(
                lambda r=r: ingest(folder, f"one{r}", resolution=resolution, workers=1, reuse=False),
                "ingest1",
            )
        )
        runs["ingestN"].append(
            _timed(
                lambda r=r: ingest(folder, f"many{r}", resolution=resolution, workers=workers, reuse=False),
                "ingestN",
            )
        )
    n = len(paths)
    rate = {k: n / statistics.median(v) for k, v in runs.items()}
    spread = {k: f"{n / max(v):.0f}-{n / min(v):.0f}" for k, v in runs.items()}
    print(
        f"plain pydicom loop (dcmread + pixel_array + resize): {rate['plain']:6.1f} files/s (range {spread['plain']})"
    )
    kind = "forked processes" if _can_fork() else "threads"
    print(
        f"medgan ingest, 1 worker                             : {rate['ingest1']:6.1f} files/s (range {spread['ingest1']})"
    )
    print(
        f"medgan ingest, {workers} workers ({kind})       : {rate['ingestN']:6.1f} files/s (range {spread['ingestN']})"
    )
    print(
        f"ratio ingest/plain: {rate['ingest1'] / rate['plain']:.2f}x with 1 worker, {rate['ingestN'] / rate['plain']:.2f}x "
        f"with {workers} (median of {repeats} alternating runs; ingest also windows, labels, splits by "
        "patient and writes the manifest and cache)"
    )
    cpu = {k: statistics.median(v) / n * 1000 for k, v in _CPU.items()}
    print(
        f"CPU per file (median): plain loop {cpu['plain']:.2f} ms, ingest {cpu['ingest1']:.2f} ms with 1 worker "
        f"({cpu['ingest1'] / cpu['plain']:.2f}x the plain loop's work), {cpu['ingestN']:.2f} ms with {workers} (workers "
        "included); CPU time is less sensitive to other load than files/s"
    )
    print(
        f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s) (files/s ratios need idle "
        "cores: with other work running, each process gets a share of the CPUs)"
    )
    info = get_dataset("one0")
    reingest = statistics.median(runs["ingest1"])
    again = _timed(lambda: ingest(folder, "again", resolution=resolution))
    assert get_dataset("again").n_images == info.n_images
    cached = _timed(lambda: np.asarray(load_images(info).images).sum())
    derived = _timed(lambda: np.asarray(load_images(info, 64).images).sum())
    derived_again = _timed(lambda: np.asarray(load_images(info, 64).images).sum())
    print(
        f"second ingest of the same unchanged files: {again * 1000:.0f} ms (cache reused) vs {reingest * 1000:.0f} ms "
        f"decoding ({reingest / again:.0f}x faster); reading all {n} cached images: {cached * 1000:.0f} ms at "
        f"{resolution} px, at 64 px {derived * 1000:.0f} ms the first time (derived from the {resolution} px cache) "
        f"and {derived_again * 1000:.0f} ms after"
    )


def _status_mib(field: str) -> float | None:
    """A field of /proc/self/status (VmRSS, VmHWM) in MiB, None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def memory_child(folder: Path, resolution: int) -> None:
    """Runs in a subprocess: ingest ``folder``; print images, RSS before, peak RSS during, cache size (MiB)."""
    from medgan.data.ingest import ingest
    from medgan.data.readers import readers

    readers()  # import every reader module first, so their import is not counted as ingest memory
    before = _status_mib("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:  # reset the peak (VmHWM) to the current RSS, so the peak below belongs to the ingest
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    info = ingest(folder, "memory", resolution=resolution).dataset
    peak = (_status_mib("VmHWM") if reset else None) or resource.getrusage(
        resource.RUSAGE_SELF
    ).ru_maxrss / 1024
    cache = (info.folder / f"cache_{resolution}.npy").stat().st_size / 1024**2
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # largest decoding worker, if any
    print(f"{info.n_images} {before:.0f} {peak:.0f} {cache:.0f} {worker:.0f}")


def memory(n_images: int, size: int, resolution: int) -> None:
    """Peak RSS of ingesting ``n_images`` DICOM files at ``resolution`` px, measured in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "src"
        write_ct_folder(folder, n_images, size, seed=1)
        env = dict(os.environ, MEDGAN_HOME=str(Path(tmp) / "home"))
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(folder), "--resolution", str(resolution)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        elapsed = time.perf_counter() - start
    n, before, peak, cache, worker = (float(v) for v in out)
    print(
        f"peak memory, {int(n)} DICOM images of {size} px ingested at {resolution} px: {peak:.0f} MiB peak RSS, "
        f"{before:.0f} MiB before the ingest (Python + libraries), so {peak - before:.0f} MiB for the ingest "
        f"itself; largest forked decoding worker {worker:.0f} MiB peak RSS (mostly pages shared with the main "
        f"process); the {cache:.0f} MiB cache is written as a stream, never held; {n / elapsed:.0f} files/s "
        "including process start-up"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000, help="DICOM files for the speed test")
    parser.add_argument("--size", type=int, default=256, help="side of the written CT slices (px)")
    parser.add_argument("--resolution", type=int, default=128, help="cache resolution (px)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-images", type=int, default=10_000, help="0 skips the memory test")
    parser.add_argument("--memory-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.resolution)
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MEDGAN_HOME"] = str(Path(tmp) / "home")
        folder = Path(tmp) / "src"
        paths = write_ct_folder(folder, args.files, args.size)
        print(
            f"{args.files} CT DICOM files, {args.size}x{args.size} int16, cache at {args.resolution} px, "
            f"{os.cpu_count()} CPU(s)"
        )
        speed(folder, paths, args.repeats, args.resolution)
    if args.memory_images:
        memory(args.memory_images, 128, args.resolution)


if __name__ == "__main__":
    main()
