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
import json
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
from medgan.export_dicom import DicomSeries, dicom_bytes

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
    "sample_seed",
    "batch_position",
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Batch:
    """One generator call: ``sample(count, label=label, seed=sample_seed)`` gives images ``start..start+count``."""

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
    if per_class:
        return {name: n for name in class_names}
    base, extra = divmod(n, len(class_names))
    return {name: base + (i < extra) for i, name in enumerate(class_names)}


def folder_names(class_names: list[str]) -> dict[str, str]:
    """A safe, unique folder name per class (letters, digits, ``._-``; never ``.`` or ``..``)."""
    out: dict[str, str] = {}
    for i, name in enumerate(class_names):
        folder = re.sub(r"[^\w.-]+", "_", name).strip("._") or f"class{i}"
        out[name] = folder if folder not in out.values() else f"{folder}_{i}"
    return out


def sample_seed(seed: int, class_position: int, chunk: int) -> int:
    """The generator seed of one chunk, derived from the export seed (independent streams per class)."""
    return int(np.random.SeedSequence([seed, class_position, chunk]).generate_state(1, dtype=np.uint32)[0])


def plan_batches(class_names: list[str], n: int, per_class: bool, seed: int) -> list[Batch]:
    """The generator calls of an export, in archive order."""
    counts = class_counts(class_names, n, per_class)
    folders = folder_names(list(counts))
    batches = []
    for position, (name, count) in enumerate(counts.items()):
        digits = max(5, len(str(count - 1)))
        for chunk, start in enumerate(range(0, count, CHUNK)):
            batches.append(
                Batch(
                    name,
                    name if class_names else None,
                    folders[name],
                    position + 1,
                    start,
                    min(CHUNK, count - start),
                    sample_seed(seed, position, chunk),
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
                        "sample_seed": batch.sample_seed,
                        "batch_position": offset,
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


def _check_generator(gen: Any) -> None:
    if gen.channels not in (1, 3):
        raise ValueError(
            f"run {gen.run_id}: export writes 1- or 3-channel images; this generator makes "
            f"{gen.channels} channels (2.5D stacks are not exported yet)"
        )


def _write_images(
    archive: zipfile.ZipFile, gen: Any, batches: list[Batch], fmt: str, key: str, progress: Progress | None
) -> None:
    total, done, formats = sum(b.count for b in batches), 0, file_formats(fmt)
    generator_name = f"{gen.arch} run {gen.run_id} (step {gen.step})"
    for batch in batches:
        images = gen.sample(batch.count, label=batch.label, seed=batch.sample_seed)
        series = DicomSeries(key, batch.class_name, batch.series_number, generator_name)
        for offset, image in enumerate(images):
            index = batch.start + offset
            if "png" in formats:  # PNG is compressed already: stored, not deflated again
                _add(archive, batch.member("png", index), png_bytes(image), compress=False)
            if "dicom" in formats:
                _add(archive, batch.member("dicom", index), dicom_bytes(image, series, index))
        done += batch.count
        if progress is not None:
            progress(done, total)


def _dataset_section(name: str) -> str:
    """Where the training images came from, as recorded when they were imported."""
    from medgan.data.phantom import DEMO_DESCRIPTION, DEMO_NAME
    from medgan.data.store import DatasetNotFound, get_dataset

    try:
        info = get_dataset(name)
    except DatasetNotFound:
        if name != DEMO_NAME:
            return f"- Name: {name} (not registered in this workspace any more; no further record)\n"
        return f"- Name: {name}\n- Source: made by code (medgan.data.phantom)\n- Description: {DEMO_DESCRIPTION}\n"
    classes = ", ".join(f"{label} ({count})" for label, count in info.classes.items())
    return (
        f"- Name: {info.name}\n- Source: {info.source}\n- Imported: {info.created}, {info.n_images} images, "
        f"{info.channels} channel(s), {info.base_resolution} px\n- Classes: {classes}\n"
        f"- Description: {info.description or '(none given at import)'}\n"
    )


def _num(value: Any, sd: Any = None) -> str:
    """A number with 4 significant digits (and its sd), ``n/a`` when missing."""
    if value is None:
        return "n/a"
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text + (f" ± {sd:.2g}" if isinstance(sd, float) else "")


def _metric_tables(metrics: dict[str, Any]) -> str:
    """Distribution, quality and memorization tables of an evaluation.json (medgan.metrics.report)."""
    out = (
        "Distribution (synthetic vs training images; baseline: held-out real vs training, same features):\n\n"
        "| metric | synthetic | baseline | better |\n|---|---|---|---|\n"
    )
    out += "".join(
        f"| {r['metric']} | {_num(r.get('value'), r.get('sd'))} | "
        f"{_num(r.get('baseline'), r.get('baseline_sd'))} | "
        f"{'higher' if r.get('higher_is_better') else 'lower'} |\n"
        for r in metrics.get("distribution", [])
    )
    out += (
        "\nQuality (each synthetic image against its nearest training image, mean ± sd over n images):\n\n"
        "| metric | mean ± sd | n | unit |\n|---|---|---|---|\n"
    )
    out += "".join(
        f"| {r['metric']} | {_num(r.get('mean'), r.get('sd'))} | {r.get('n')} | {r.get('unit', '')} |\n"
        for r in metrics.get("quality", {}).get("rows", [])
    )
    out += (
        "\nMemorization (distance to the nearest training image; flagged: closer than the threshold, a low "
        "percentile of held-out real images' distances):\n\n| space | synthetic median | held-out median | "
        "threshold | flagged |\n|---|---|---|---|---|\n"
    )
    out += "".join(
        f"| {space} | {_num(m.get('fake_median'))} | {_num(m.get('heldout_median'))} | "
        f"{_num(m.get('threshold'))} | {m.get('n_flagged')} of {m.get('n_fake')} |\n"
        for space, m in metrics.get("memorization", {}).items()
    )
    return out


def _metrics_section(gen: Any) -> str:
    """The run's latest evaluation, or a line saying none was computed."""
    from medgan.metrics.report import latest_metrics

    metrics = latest_metrics(gen.run_id)
    if not metrics:
        return "No metrics were computed for this run before the export (see the Evaluate page).\n"
    same = metrics.get("checkpoint_sha256") == gen.checkpoint_sha256
    return (
        f"Latest evaluation ({metrics.get('created', 'date unknown')}) at step {metrics.get('step')}, "
        f"{'of the exported checkpoint' if same else 'of a DIFFERENT checkpoint than the exported one (re-evaluate)'}; "
        f"features: {metrics.get('extractor', 'n/a')}; {metrics.get('n_synthetic')} synthetic, "
        f"{metrics.get('n_train')} training and {metrics.get('n_heldout')} held-out real images.\n\n"
        + _metric_tables(metrics)
    )


def _contents_section(gen: Any, batches: list[Batch], fmt: str) -> str:
    """What the archive holds: counts per class, formats, manifest columns, DICOM identity."""
    counts: dict[str, int] = {}
    for batch in batches:
        counts[batch.class_name] = counts.get(batch.class_name, 0) + batch.count
    table = "".join(
        f"| {name} | {count} | {next(b.folder for b in batches if b.class_name == name)} |\n"
        for name, count in counts.items()
    )
    formats = {
        "png": "PNG (8-bit, lossless)",
        "dicom": "DICOM Secondary Capture",
        "both": "PNG (8-bit, lossless) and DICOM Secondary Capture",
    }[fmt]
    return f"""{sum(counts.values())} images, {gen.resolution} x {gen.resolution} px, {gen.channels} channel(s), as {formats}.

| class | images | folder |
|---|---|---|
{table}
`manifest.csv` has one row per file: file, class, architecture, run_id, checkpoint_sha256, seed (of the
export), index (within the class), sample_seed and batch_position. An image is reproduced by
`medgan.generate.load_generator(run_id).sample(k, label=class, seed=sample_seed)[batch_position]`, where k is
the number of images of that class sharing its sample_seed.

DICOM files are Secondary Capture (SOP Class 1.2.840.10008.5.1.4.1.1.7) with new Study, Series and SOP
Instance UIDs, patient name SYNTHETIC^MEDGAN, ImageType DERIVED\\SECONDARY, ConversionType SYN (synthetic
image) and a series description saying they are GAN-generated. No attribute of a training image is copied.
"""


def _model_section(gen: Any, seed: int) -> str:
    """The generator: architecture, conditioning, steps, checkpoint hash, training settings."""
    conditioning = gen.config.get("conditional") or ("conditional" if gen.conditional else "none")
    hash_note = (
        " (one model per class: the SHA-256 of the per-class checkpoint hashes joined in class order)"
        if conditioning == "per-class"
        else ""
    )
    config = json.dumps(gen.config, indent=2, sort_keys=True, default=str)
    return f"""- Architecture: {gen.arch}, conditioning: {conditioning}, run {gen.run_id}
- Training steps: {gen.step}
- Checkpoint: {Path(gen.checkpoint_path).name}, SHA-256 {gen.checkpoint_sha256}{hash_note}
- Export seed: {seed}

Training settings:

```json
{config}
```
"""


def datasheet(gen: Any, batches: list[Batch], fmt: str, seed: int) -> str:
    """``DATASHEET.md``: contents, source data, model, metrics, intended use and how to cite."""
    return f"""# Datasheet: synthetic images from MedGAN Studio run {gen.run_id}

**Every image in this archive is SYNTHETIC: generated by a GAN, not acquired from a patient.
Intended for research and education only; not for diagnosis or any clinical decision.**

## Contents

{_contents_section(gen, batches, fmt)}
## Source dataset

The generator was trained on:

{_dataset_section(gen.dataset)}
Licence: the terms of the source dataset above apply to anything derived from it, these images included;
check them before sharing this archive.

## Model

{_model_section(gen, seed)}
## Metrics

{_metrics_section(gen)}
## Intended use and limitations

- Research and education: method development, teaching, data augmentation experiments, software testing.
- Not for diagnosis, treatment or any decision about a patient; not a substitute for real data in
  validating a clinical tool.
- Synthetic images can reproduce artefacts, biases and class balance of the training set, and a GAN can
  memorise training images: check the nearest-neighbour (memorization) report before sharing.
- Class labels are what the generator was asked for, not a reader's finding.

## How to cite

MedGAN Studio synthetic dataset, run {gen.run_id} ({gen.arch}, {gen.step} steps), checkpoint SHA-256
{gen.checkpoint_sha256}, export seed {seed}. Cite the source dataset above as its licence asks.
"""


def export_generator(
    gen: Any, n: int, *, per_class: bool, fmt: str, out: Path, seed: int = 0, progress: Progress | None = None
) -> Path:
    """Write the synthetic dataset ZIP of a loaded generator (see :func:`export_synthetic`)."""
    check_request(n, fmt)
    _check_generator(gen)
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
