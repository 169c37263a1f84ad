"""Loading a trained generator (a run's best or latest checkpoint, or the shipped ``demo``) and sampling images.

``load_generator(run_id).sample(n, label=..., seed=...)`` returns uint8 ``(n, C, R, R)``; the same seed
gives the same images, here and wherever else the seed scheme of :mod:`medgan.sampling` is used. ``run_id``
may be a generator reference (:func:`medgan.runs.parse_ref`): ``RUN_ID`` or ``RUN_ID@best`` reads ``checkpoints/best.pt`` (lowest tracked FID; ``latest.pt`` when the run
has no tracked best), ``RUN_ID@latest`` reads ``checkpoints/latest.pt``. Checkpoints are opened with
``weights_only=True`` (no code runs).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from medgan import runs
from medgan.data.imageops import image_grid, to_pil
from medgan.models.registry import build_models, model_config
from medgan.sampling import CHUNK, chunk_spans, latent_chunk, sample_mix
from medgan.train.batches import to_uint8
from medgan.train.checkpoint import BEST, load_checkpoint
from medgan.train.config import Conditioning, TrainConfig
from medgan.train.device import pick_device
from medgan.workspace import file_digest

DEMO_FILE = "generator.pt"


def build_generator(config: TrainConfig, state: dict[str, torch.Tensor]) -> nn.Module:
    """A generator of ``config``'s shape with ``state`` loaded, in eval mode."""
    generator, _ = build_models(model_config(config))
    generator.load_state_dict(state)
    return generator.eval()


def generator_state(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The weights to sample from: the EMA generator when the checkpoint has one, else G."""
    return checkpoint.get("ema") or checkpoint["G"]


def checkpoint_file(ref: str) -> Path:
    """Path of the file ``load_generator`` reads for a (non per-class) run or generator reference."""
    return runs.checkpoint_files(ref)[0]


@dataclass
class LoadedGenerator:
    """A generator ready to sample; per-class runs hold one network per class in ``_nets``."""

    run_id: str
    arch: str
    resolution: int
    channels: int
    class_names: list[str]
    conditional: bool
    dataset: str
    step: int
    config: dict[str, Any]
    checkpoint_path: Path
    checkpoint_sha256: str
    _nets: dict[str | None, nn.Module] = field(default_factory=dict, repr=False)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"), repr=False)
    checkpoint: str = "latest"  # the file read: best (lowest tracked FID) or latest
    stack: bool = False  # the channels are a 2.5D stack's adjacent slices, not colours

    def _class_index(self, label: str | None) -> int:
        """The class's position in the seed scheme (0 for an unconditional run)."""
        if not self.class_names:
            if label is not None:
                raise ValueError(f"run {self.run_id} is unconditional: label must be None, got {label!r}")
            return 0
        if label not in self.class_names:
            raise ValueError(
                f"run {self.run_id}: unknown class {label!r}; classes: {', '.join(self.class_names)}"
            )
        return self.class_names.index(label)

    @torch.no_grad()
    def sample(self, n: int, *, label: str | None = None, seed: int = 0, start: int = 0) -> np.ndarray:
        """Images ``start .. start + n - 1`` of ``label``'s stream under ``seed`` as uint8 ``(n, C, R, R)``
        (:mod:`medgan.sampling`); ``label=None`` on a labelled run splits ``n`` evenly over the classes."""
        if label is None and self.class_names:
            return self.sample_with_labels(n, seed=seed)[0]
        class_index, z_dim = self._class_index(label), int(self.config["z_dim"])
        out = np.empty((n, self.channels, self.resolution, self.resolution), dtype=np.uint8)
        done = 0
        for chunk, first, stop in chunk_spans(start, n):  # whole chunks through the network, then the rows
            images = self._generate(latent_chunk(z_dim, seed, class_index, chunk), [label] * CHUNK)
            out[done : done + stop - first] = images[first:stop]
            done += stop - first
        return out

    def sample_with_labels(self, n: int, *, seed: int = 0) -> tuple[np.ndarray, list[str]]:
        """``n`` images with their class names (split evenly over the classes; ``""`` when unconditional)."""
        return sample_mix(self, n, seed=seed)

    def _generate(self, z: torch.Tensor, labels: list[str | None]) -> np.ndarray:
        z = z.to(self.device)
        if None in self._nets:  # one network for all classes
            ids = None
            if self.conditional:
                ids = torch.tensor([self.class_names.index(lab) for lab in labels], device=self.device)
            return to_uint8(self._nets[None](z, ids))
        out = np.empty((len(labels), self.channels, self.resolution, self.resolution), dtype=np.uint8)
        for name in dict.fromkeys(labels):
            rows = [i for i, lab in enumerate(labels) if lab == name]
            out[rows] = to_uint8(self._nets[name](z[rows], None))
        return out


def load_generator(run_id: str, device: str = "auto") -> LoadedGenerator:
    """The generator of run ``run_id`` (``RUN_ID[@best|latest]``, best by default) or of ``"demo"``."""
    run_id, checkpoint = runs.parse_ref(run_id)
    folder = runs.run_dir(run_id)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no run {run_id!r}")
    config = TrainConfig.from_dict(json.loads((folder / "config.json").read_text()))
    dev = pick_device(device)
    files = runs.checkpoint_files(runs.generator_ref(run_id, checkpoint), config.to_dict())
    per_class = config.conditional == Conditioning.PER_CLASS
    paths = dict(zip(config.class_names if per_class else [None], files, strict=True))
    nets, hashes, step = {}, [], 0
    for name, path in paths.items():
        ckpt = load_checkpoint(path)
        sub = TrainConfig.from_dict(json.loads(ckpt["config"]))
        nets[name] = build_generator(sub, generator_state(ckpt)).to(dev)
        hashes.append(file_digest(path))
        step = max(step, int(ckpt["step"]))
    sha = hashes[0] if len(hashes) == 1 else hashlib.sha256("".join(hashes).encode()).hexdigest()
    labelled = config.conditional != Conditioning.NONE
    return LoadedGenerator(
        run_id=run_id,
        arch=config.arch,
        resolution=config.resolution,
        channels=config.channels,
        class_names=list(config.class_names) if labelled else [],
        conditional=labelled,
        dataset=config.dataset,
        step=step,
        config=config.to_dict(),
        checkpoint_path=next(iter(paths.values())),
        checkpoint_sha256=sha,
        _nets=nets,
        device=dev,
        checkpoint="best" if all(p.name == BEST for p in paths.values()) else "latest",
        stack=config.stack,
    )


def write_pngs(images: np.ndarray, out_dir: Path, prefix: str = "sample", stack: bool = False) -> list[Path]:
    """One PNG per image: grey, RGB, or for a 2.5D ``stack`` (or any channel count but 1 and 3) the grey
    middle slice only (all slices: DICOM export); returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        path = out_dir / f"{prefix}_{i:05d}.png"
        to_pil(image, stack).save(path)
        paths.append(path)
    return paths


def export_generator(run_id: str, dest: Path, sample_seed: int = 0) -> Path:
    """Write a run's sampling weights (EMA when kept) + config as a small shippable generator folder:
    ``generator.pt`` (step, config JSON, weights; no optimizer or discriminator), ``config.json`` and a
    ``samples.png`` grid (one row per class when labelled). ``run_id`` may be a reference (``RUN_ID@latest``;
    bare: best). Returns the ``generator.pt`` path."""
    from medgan.train.checkpoint import save_checkpoint
    from medgan.train.config import save_config

    folder = runs.run_dir(run_id)
    ckpt = load_checkpoint(checkpoint_file(run_id))
    config = TrainConfig.from_dict(json.loads(ckpt["config"]))
    if config.conditional == Conditioning.PER_CLASS:
        raise ValueError(f"run {run_id} is per-class: export each class's run folder instead")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    path = save_checkpoint(
        dest / DEMO_FILE,
        {"step": int(ckpt["step"]), "config": ckpt["config"], "G": generator_state(ckpt), "ema": None},
    )
    save_config(TrainConfig.from_dict(json.loads((folder / "config.json").read_text())), dest)
    loaded = load_generator(run_id)
    rows = [loaded.sample(8, label=label, seed=sample_seed) for label in (loaded.class_names or [None])]
    image_grid(np.concatenate(rows), 8, stack=loaded.stack).save(dest / "samples.png")
    return path
