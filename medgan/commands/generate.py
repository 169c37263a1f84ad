"""``python -m medgan generate``: sample PNGs from a trained run or the shipped ``demo`` generator."""

from __future__ import annotations

import argparse
import json
import sys

from medgan.commands import add_checkpoint_option, run_ref


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``generate`` sub-command."""
    parser = subparsers.add_parser("generate", help="write synthetic PNGs from a run (or 'demo')")
    parser.add_argument("--run", required=True, help="run id, or 'demo' for the shipped generator")
    add_checkpoint_option(parser)
    parser.add_argument("--n", type=int, default=16, help="number of images")
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--class", dest="label", help="class label (conditional and per-class runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def run(args: argparse.Namespace) -> int:
    """Load the generator, sample, write one PNG per image."""
    from medgan.generate import load_generator, write_pngs

    if args.n < 1:
        print("error: --n must be at least 1", file=sys.stderr)
        return 2
    try:
        generator = load_generator(run_ref(args.run, args))
        images = generator.sample(args.n, label=args.label, seed=args.seed)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    prefix = f"{args.run}_{args.label or 'all'}_seed{args.seed}"
    paths = write_pngs(images, args.out, prefix=prefix, stack=generator.stack)
    summary = {
        "run": args.run,
        "n": len(paths),
        "out": str(args.out),
        "class": args.label,
        "seed": args.seed,
        "checkpoint": generator.checkpoint,
        "checkpoint_sha256": generator.checkpoint_sha256,
        "stack": generator.stack,
    }
    note = (
        f" (2.5D stacks of {generator.channels} slices: each PNG is the grey middle slice; "
        "`medgan export --format dicom` keeps every slice)"
        if generator.stack
        else ""
    )
    print(json.dumps(summary) if args.json else f"wrote {len(paths)} PNGs to {args.out}{note}")
    return 0
