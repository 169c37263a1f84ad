"""``python -m medgan export --run RUN_ID --n N --out FILE.zip``: a synthetic dataset ZIP (PNG and/or DICOM)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from medgan.commands import add_checkpoint_option, run_ref
from medgan.dicomweb import DEFAULT_TIMEOUT, PacsError, PacsLogin, SendResult, check_url, send_export
from medgan.export import FORMATS, export_synthetic


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``export`` sub-command."""
    parser = subparsers.add_parser(
        "export",
        help="export synthetic images of a run as a ZIP with manifest and datasheet",
        description="Sample a trained generator and write a ZIP: images in one folder per class (PNG and/or "
        "DICOM Secondary Capture), manifest.csv and DATASHEET.md. The same seed gives the same bytes.",
    )
    parser.add_argument("--run", required=True, help="run id, or 'demo' for the shipped generator")
    add_checkpoint_option(parser)
    parser.add_argument("--n", type=int, required=True, help="number of images (per class with --per-class)")
    parser.add_argument(
        "--per-class", action="store_true", help="N images for every class (default: N in total)"
    )
    parser.add_argument("--format", choices=FORMATS, default="png", help="png (default), dicom or both")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="the ZIP file to write")
    parser.add_argument(
        "--send",
        metavar="BASE_URL",
        help="also store the DICOM files on this DICOMweb server "
        "(STOW-RS; login from MEDGAN_PACS_USER/MEDGAN_PACS_PASSWORD or MEDGAN_PACS_TOKEN)",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="--send: seconds per request")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the result")
    return parser


def _progress_line(started: float):
    """A progress callback that rewrites one line on stderr: images done, total, elapsed seconds."""

    def report(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(
            f"\rexport: {done}/{total} images ({time.monotonic() - started:.1f} s)",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return report


def _send(args: argparse.Namespace, out: Path) -> SendResult:
    """Store the export's DICOM files on ``--send``; prints what the server accepted and refused (stderr)."""
    result = send_export(out, args.send, PacsLogin.configured(), args.timeout)
    print(
        f"sent to {args.send}: {len(result.accepted)} instance(s) accepted, {len(result.refused)} refused",
        file=sys.stderr,
    )
    for name, reason in result.refused:
        print(f"  {name}: {reason}", file=sys.stderr)
    return result


def run(args: argparse.Namespace) -> int:
    """Write the export (and send it); exit 1 with the reason on stderr when something failed."""
    started = time.monotonic()
    try:
        if args.send:
            check_url(args.send)
            if args.format == "png":
                raise ValueError("--send stores DICOM files: use --format dicom or both")
        out = export_synthetic(
            run_ref(args.run, args),
            args.n,
            args.per_class,
            args.format,
            args.out,
            seed=args.seed,
            progress=_progress_line(started),
        )
        sent = _send(args, out) if args.send else None
    except (ValueError, OSError, KeyError, PacsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    size_mb = out.stat().st_size / 1e6
    if args.json:
        summary = {
            "out": str(out),
            "bytes": out.stat().st_size,
            "run": args.run,
            "n": args.n,
            "per_class": args.per_class,
            "format": args.format,
            "seed": args.seed,
            "seconds": round(time.monotonic() - started, 2),
        }
        if sent is not None:
            summary["sent"] = {"accepted": len(sent.accepted), "refused": [list(r) for r in sent.refused]}
        print(json.dumps(summary))
    else:
        print(f"wrote {out} ({size_mb:.2f} MB) in {time.monotonic() - started:.1f} s")
    return 1 if sent is not None and sent.refused else 0
