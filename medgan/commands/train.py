"""``python -m medgan train``: train a GAN in the foreground (the same code the background jobs run)."""

from __future__ import annotations

import argparse
import json
import sys

from medgan.train.config import DEFAULT_ARCH, Augment, architectures


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``train`` sub-command."""
    parser = subparsers.add_parser("train", help="train a GAN on a dataset (foreground); prints the run id")
    parser.add_argument("--dataset", help="dataset name or id (see the Data page)")
    parser.add_argument("--arch", choices=architectures(), default=DEFAULT_ARCH)
    parser.add_argument("--resolution", type=int, choices=(32, 64, 128, 256), default=64)
    parser.add_argument("--steps", type=int, help="generator steps (default: the architecture's preset)")
    parser.add_argument("--batch-size", type=int)
    cond = parser.add_mutually_exclusive_group()
    cond.add_argument("--conditional", action="store_true", help="one class-conditional model")
    cond.add_argument("--per-class", action="store_true", help="one model per class")
    parser.add_argument(
        "--augment", choices=[a.value for a in Augment], help="default: the architecture's preset"
    )
    parser.add_argument("--no-ema", action="store_true", help="do not keep an EMA copy of the generator")
    parser.add_argument("--no-amp", action="store_true", help="train in fp32 (no bf16/fp16 autocast)")
    parser.add_argument("--width", type=int, help="base feature count of the networks")
    parser.add_argument("--grow-steps", type=int, help="progan: steps the growing takes, then full size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr-g", type=float)
    parser.add_argument("--lr-d", type=float)
    parser.add_argument("--sample-every", type=int)
    parser.add_argument("--checkpoint-every", type=int)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument(
        "--track-every",
        type=int,
        help="steps between tracked FID/KID (256 fixed-noise samples vs held-out images; 0 = off)",
    )
    parser.add_argument(
        "--track-features", choices=("domain", "inception"), help="features of the tracked FID"
    )
    parser.add_argument("--resume", metavar="RUN_ID", help="continue this run (--steps raises its total)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _config(args: argparse.Namespace):
    import torch

    from medgan.train.config import default_config

    conditional = "conditional" if args.conditional else "per-class" if args.per_class else None
    return default_config(
        args.dataset,
        args.arch,
        gpu=torch.cuda.is_available() and args.device != "cpu",
        resolution=args.resolution,
        steps=args.steps,
        batch_size=args.batch_size,
        conditional=conditional,
        augment=args.augment,
        ema=False if args.no_ema else None,
        amp=False if args.no_amp else None,
        width=args.width,
        grow_steps=args.grow_steps,
        seed=args.seed,
        lr_g=args.lr_g,
        lr_d=args.lr_d,
        sample_every=args.sample_every,
        checkpoint_every=args.checkpoint_every,
        device=args.device,
        track_every=args.track_every,
        track_features=args.track_features,
    )


def _resume(run_id: str, steps: int | None) -> None:
    from medgan import runs
    from medgan.jobs.training import training_data
    from medgan.train.config import load_config, save_config

    training_data(run_id)
    config = load_config(runs.run_dir(run_id))
    if steps:
        config.steps = steps
        save_config(config, runs.run_dir(run_id))


def run(args: argparse.Namespace) -> int:
    """Create (or resume) the run and train it; prints the run id (or one JSON object with ``--json``)."""
    from medgan.data.phantom import DEMO_NAME, ensure_demo_dataset
    from medgan.train.distributed import launched_by_torchrun
    from medgan.train.trainer import create_run, create_shared_run, train_run

    if not args.resume and not args.dataset:
        print("error: --dataset is required (or --resume RUN_ID)", file=sys.stderr)
        return 2
    if args.dataset == DEMO_NAME:
        ensure_demo_dataset()
    try:
        if args.resume:
            _resume(args.resume, args.steps)
        new_run = create_shared_run if launched_by_torchrun() else create_run
        run_id = args.resume or new_run(_config(args))
    except (ValueError, KeyError, FileNotFoundError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def progress(step: int, total: int, stats: dict[str, float]) -> None:
        print(
            f"step {step}/{total}  loss_d {stats.get('loss_d', 0):.3f}  loss_g {stats.get('loss_g', 0):.3f}  "
            f"{stats.get('images_per_sec', 0):.0f} images/s",
            file=sys.stderr,
            flush=True,
        )

    if not args.json:
        print(run_id, flush=True)
    result = train_run(run_id, progress_fn=progress)
    if args.json:
        print(json.dumps(result))
    return 0
