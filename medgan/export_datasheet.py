"""``DATASHEET.md`` of a synthetic dataset export: contents, source data, model, metrics, intended use, citation.

In the spirit of "Datasheets for Datasets" (Gebru T. et al., Communications of the ACM, 2021): who made the
data, from what, with which model and settings, how good it measured, and what it is (not) for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medgan.data.imageops import channels_label

if TYPE_CHECKING:
    from medgan.export import Batch


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
    from medgan.data.grouping import load_report
    from medgan.data.patients import split_warning

    classes = ", ".join(f"{label} ({count})" for label, count in info.classes.items())
    report, warning = load_report(info), split_warning(info)
    grouping = (
        f"- Patients: {report['patients']['n_patients']}; duplicate groups: {report['duplicates']['n_groups']} "
        f"({report['duplicates']['action']})\n"
        if report
        else ""
    )
    return (
        f"- Name: {info.name}\n- Source: {info.source}\n- Imported: {info.created}, {info.n_images} images, "
        f"{channels_label(info.channels, info.stack)}, {info.base_resolution} px\n- Classes: {classes}\n"
        f"- Description: {info.description or '(none given at import)'}\n{grouping}"
        + (f"- WARNING: {warning}\n" if warning else "")
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
        f"{metrics.get('n_train')} training and {metrics.get('n_heldout')} held-out real images."
        + (f" {metrics['sampling']['text']}" if metrics.get("sampling") else "")
        + "\n\n"
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
    return f"""{sum(counts.values())} images, {gen.resolution} x {gen.resolution} px, {channels_label(gen.channels, gen.stack)}, as {formats}.

| class | images | folder |
|---|---|---|
{table}
`manifest.csv` has one row per file: file, class, architecture, run_id, checkpoint_sha256, seed (of the
export) and index (within the class). An image is reproduced by
`medgan.generate.load_generator(run_id).sample(1, label=class, seed=seed, start=index)`, and the first k images
of a class by `sample(k, label=class, seed=seed)`: the seed scheme the app uses everywhere (`medgan.sampling`).

DICOM files are Secondary Capture (SOP Class 1.2.840.10008.5.1.4.1.1.7, built with highdicom) with new
Study, Series and SOP Instance UIDs, ImageType DERIVED\\SECONDARY, ConversionType SYN (synthetic image) and a
series description saying they are GAN-generated. DICOM model: the whole archive is one synthetic patient
(PatientID SYNTHETIC-<8 hex digits of this export>, name SYNTHETIC^MEDGAN) with one study; each class is one
series (series number = the class's row in the table above) whose InstanceNumber counts 1, 2, ... in file
order. A 2.5D stack (a generator of N adjacent slices) is one Multi-frame Grayscale Byte Secondary Capture
instance (SOP Class 1.2.840.10008.5.1.4.1.1.7.2, NumberOfFrames N, FrameIncrementPointer PageNumberVector) in
the same patient, study and series model; stacks are never written as PNG (one slice would be lost, or three
slices shown as colour). No attribute of a training image is copied.
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
