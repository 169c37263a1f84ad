"""One module per CLI sub-command (each defines ``add_parser`` and ``run``)."""

from __future__ import annotations

import argparse

from medgan.runs import CHECKPOINTS, generator_ref


def add_checkpoint_option(parser: argparse.ArgumentParser) -> None:
    """``--checkpoint best|latest`` beside ``--run``: which of the run's checkpoints generates."""
    parser.add_argument(
        "--checkpoint",
        choices=CHECKPOINTS,
        default=CHECKPOINTS[0],
        help="best: lowest FID tracked while training (default; latest when the run has none); "
        "latest: the last saved step",
    )


def run_ref(run_id: str, args: argparse.Namespace) -> str:
    """The generator reference for ``run_id`` and the parsed ``--checkpoint``."""
    return generator_ref(run_id, args.checkpoint)
