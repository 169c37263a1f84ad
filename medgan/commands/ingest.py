"""``python -m medgan ingest SOURCE --name NAME``: import a folder, file, ZIP or ``medmnist:NAME`` as a dataset."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medgan.data.dicom import check_keyword, parse_window
from medgan.data.duplicates import NEAR_THRESHOLD
from medgan.data.grouping import GroupingOptions, duplicate_lines
from medgan.data.imageops import channels_label
from medgan.data.ingest import IngestResult, NothingReadable, ingest
from medgan.data.pacs import ingest_dicomweb, is_dicomweb_source
from medgan.data.patients import compile_pattern
from medgan.data.readers import ReadOptions
from medgan.dicomweb import DEFAULT_TIMEOUT, PacsLogin, parse_query


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``ingest`` sub-command."""
    parser = subparsers.add_parser(
        "ingest",
        help="import images (folder, file, ZIP, medmnist:NAME) as a dataset",
        description="Import DICOM, PNG/JPEG/TIFF, NIfTI, MedMNIST .npz files, a folder or a ZIP of them, or "
        "download a MedMNIST set with medmnist:NAME. Unreadable files are listed, not fatal.",
    )
    parser.add_argument(
        "source",
        help="folder, file, .zip, medmnist:NAME (e.g. medmnist:breastmnist) or "
        "dicomweb:BASE_URL (a PACS; login from MEDGAN_PACS_USER/PASSWORD or _TOKEN)",
    )
    parser.add_argument("--name", help="dataset name (default: the source's file or folder name)")
    parser.add_argument(
        "--labels",
        default="folders",
        help="folders (first sub-folder), csv:FILE (file,label[,patient_id]), tag:KEYWORD "
        "(DICOM attribute, e.g. tag:BodyPartExamined) or none (default: folders)",
    )
    parser.add_argument("--resolution", type=int, default=128, help="side of the square image cache, 32-256")
    parser.add_argument("--channels", choices=("auto", "gray", "rgb"), default="auto")
    parser.add_argument("--window", help="DICOM/NIfTI window as CENTER,WIDTH (e.g. 40,400); default: header")
    parser.add_argument(
        "--multiframe",
        choices=("frames", "stack"),
        default="frames",
        help="multi-frame DICOM / NIfTI: each frame an image, or STACK_DEPTH frames as channels",
    )
    parser.add_argument("--stack-depth", type=int, default=3, help="frames per 2.5D stack (default 3)")
    parser.add_argument(
        "--nifti-axis",
        type=int,
        choices=(0, 1, 2),
        default=2,
        help="NIfTI slicing axis: 0 sagittal, 1 coronal, 2 axial (default)",
    )
    parser.add_argument(
        "--patient-pattern",
        default="auto",
        help="patient ids from file names: auto (built-in patterns, applied only when they group "
        "files), none (each file its own patient) or a REGEX searched in the relative path "
        r"without extension, whose first group is the id (e.g. '^[^/]+/(p\d+)_'); DICOM "
        "PatientID and CSV patient ids win",
    )
    parser.add_argument(
        "--near-duplicates",
        default=str(NEAR_THRESHOLD),
        metavar="R|off",
        help=f"correlation of 16x16 grey images at which two images are near copies (default "
        f"{NEAR_THRESHOLD}); off: exact copies only",
    )
    parser.add_argument(
        "--drop-duplicates",
        action="store_true",
        help="keep one image per duplicate group; a group whose copies have different labels is "
        "dropped whole (default: keep all, each group in one split)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/val/test split")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="import as the next version of an existing dataset of the same name (older versions and the runs trained on them stay unchanged)",
    )
    parser.add_argument(
        "--study", action="append", default=[], help="dicomweb: a StudyInstanceUID to import (repeatable)"
    )
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        help="dicomweb: a study search KEY=VALUE, e.g. Modality=CR, PatientID=X, StudyDate=20200101-20201231",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="dicomweb: seconds per request"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    return parser


def _options(args: argparse.Namespace) -> ReadOptions:
    window = parse_window(args.window)
    if args.labels.startswith("tag:"):
        check_keyword(args.labels[4:])
    if not 32 <= args.resolution <= 256:
        raise ValueError(f"--resolution must be between 32 and 256, got {args.resolution}")
    return ReadOptions(
        window=window, multiframe=args.multiframe, stack_depth=args.stack_depth, nifti_axis=args.nifti_axis
    )


def _grouping(args: argparse.Namespace) -> GroupingOptions:
    if args.patient_pattern not in ("auto", "none"):
        compile_pattern(args.patient_pattern)
    near = None if args.near_duplicates.lower() == "off" else float(args.near_duplicates)
    if near is not None and not 0 < near <= 1:
        raise ValueError(
            f"--near-duplicates must be a correlation in (0, 1] or off, got {args.near_duplicates}"
        )
    return GroupingOptions(
        patient_pattern=args.patient_pattern, near_threshold=near, drop_duplicates=args.drop_duplicates
    )


def _source(source: str) -> Path:
    """The local path of ``source``; ``medmnist:NAME`` is downloaded (with its checksum) first."""
    if source.lower().startswith("medmnist:"):
        from medgan.data.medmnist import download

        return download(source.split(":", 1)[1])
    return Path(source)


def print_summary(result: IngestResult) -> None:
    """Human-readable summary: images, classes with counts, skipped files with reasons."""
    info = result.dataset
    print(
        f"Dataset {info.label!r} ({info.id}): {info.n_images} images, {channels_label(info.channels, info.stack)}, "
        f"cached at {info.base_resolution} px"
    )
    for label, count in info.classes.items():
        print(f"  {label}: {count}")
    if result.reused_from:
        print(f"Files unchanged since dataset {result.reused_from!r} was imported: its cache was reused")
    patients, duplicates = result.report.get("patients", {}), result.report.get("duplicates", {})
    if result.report.get("channels"):
        print(f"Channels: {result.report['channels']}")
    if patients:
        print(("WARNING: " if patients["image_level"] else "") + patients["description"])
    if duplicates:
        text, warnings = duplicate_lines(duplicates)
        print(text)
        for warning in warnings:
            print(f"WARNING: {warning}")
    print(f"Skipped {len(result.skipped)} file(s)" + (":" if result.skipped else ""))
    for s in result.skipped:
        print(f"  {s.file}: {s.reason}")


def run(args: argparse.Namespace) -> int:
    """Import the source; exit 1 only when nothing could be read (or the arguments are wrong)."""
    try:
        settings = {
            "labels": args.labels,
            "resolution": args.resolution,
            "channels": args.channels,
            "options": _options(args),
            "seed": args.seed,
            "replace": args.replace,
            "grouping": _grouping(args),
        }
        if is_dicomweb_source(args.source):
            result = ingest_dicomweb(
                args.source,
                args.name or "pacs",
                studies=args.study,
                query=parse_query(args.query),
                login=PacsLogin.configured(),
                timeout=args.timeout,
                **settings,
            )
        else:
            path = _source(args.source)
            result = ingest(
                path, args.name or path.name.removesuffix(".zip").removesuffix(".npz"), **settings
            )
    except NothingReadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        for s in exc.skipped:
            print(f"  {s.file}: {s.reason}", file=sys.stderr)
        return 1
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.summary()))
    else:
        print_summary(result)
    return 0
