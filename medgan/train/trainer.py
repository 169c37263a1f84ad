"""The training loop: named steps (``d_step``, ``g_step``, ``snapshot``) with progress and abort callbacks.

One code path for CPU and CUDA (AMP in bf16 or fp16 with a grad scaler, channels_last, cuDNN autotuning,
TF32, fused Adam, optional ``torch.compile``) and for torchrun (DDP; rank 0 writes files; ``batch_size``
is the global batch, see :mod:`medgan.train.distributed`). A run folder holds config.json, metrics.jsonl,
samples/ and checkpoints/; the data order is a function of (seed, step) and every rank's random state is
checkpointed, so a resumed run continues exactly where it stopped, on any device.

Maintenance happens per tick (every ``log_every`` steps, and at steps 1, 2, 4, 8 so a new run shows a
point and an ETA at once): statistics stay on the device between ticks and come back in one transfer,
reduced over ranks together with the abort decision, so every rank stops at the same step. Sample grids
(also one early at step 10) and checkpoints are written by a background thread.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medgan import runs, workspace
from medgan.data.store import dataset_version, encode_labels, get_dataset, load_images
from medgan.models.registry import build_models, model_config, preset, validate
from medgan.train import distributed, losses
from medgan.train.batches import BatchSource
from medgan.train.checkpoint import BEST, LATEST, capture_rng, load_checkpoint, restore_rng, save_checkpoint
from medgan.train.config import Conditioning, TrainConfig, load_config, save_config
from medgan.train.device import (
    autocast_dtype,
    configure_backends,
    make_optimizer,
    resolve_device,
    seed_everything,
)
from medgan.train.lock import RunLock
from medgan.train.metrics_log import append_metrics, truncate_metrics
from medgan.train.samples import fixed_samples, grid_path, write_grid
from medgan.train.stats import TickStats, is_tick
from medgan.train.tools import TrainingTools
from medgan.train.tracking import MetricTracker
from medgan.train.writer import BackgroundWriter, cpu_copy

ProgressFn = Callable[[int, int, dict[str, float]], None]
AbortFn = Callable[[], bool]
PhaseFn = Callable[[str], None]
EARLY_SAMPLE_STEP = 10  # a first sample grid at this step, then every sample_every steps


class Trainer:
    """Trains one GAN into ``run_dir`` (resuming from its latest checkpoint when there is one).

    ``on_phase`` hears what the set-up is doing (``loading data``, ``building model``, ``resuming``).
    """

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        info: distributed.DistInfo | None = None,
        on_phase: PhaseFn | None = None,
    ) -> None:
        phase = on_phase or (lambda _name: None)
        self.config, self.run_dir = config, Path(run_dir)
        self.info = info or distributed.DistInfo()
        self.device = resolve_device(config.device, self.info)
        configure_backends(self.device, config.amp)
        self.preset = preset(config.arch)
        self.local_batch = distributed.local_batch_size(config.batch_size, self.info)
        seed_everything(config.seed + self.info.rank)  # distinct noise per rank
        phase("loading data")
        self.data = self._batches()
        phase("building model")
        G, D = build_models(model_config(config))
        # NHWC: faster convolutions with cuDNN (AMP) and, measured (7-11 %), with oneDNN on CPU
        self.G = self._place(G)
        self.D = self._place(D)
        p = self.preset
        self.opt_g = make_optimizer(
            p.optimizer, self.G.parameters(), config.lr_g or p.lr_g, p.betas, self.device
        )
        self.opt_d = make_optimizer(
            p.optimizer, self.D.parameters(), config.lr_d or p.lr_d, p.betas, self.device
        )
        self.amp_dtype = autocast_dtype(self.device, config.amp)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)
        self.tools = TrainingTools(
            config,
            self.G,
            config.batch_size,
            partial(distributed.all_sum, info=self.info),
            labels=self.data.labels.cpu() if config.n_classes else None,
        )
        self.tracker = MetricTracker(config, self.device)
        self.step, self.elapsed_before = 0, 0.0
        self.metrics_path = self.run_dir / "metrics.jsonl"
        self.writer = BackgroundWriter()
        if (self.run_dir / "checkpoints" / LATEST).is_file():
            phase("resuming from checkpoint")
            self.load(self.run_dir / "checkpoints" / LATEST)
        self.G_train = self._compiled(distributed.wrap(self.G, self.info, self.device))
        self.D_train = self._compiled(distributed.wrap(self.D, self.info, self.device))

    def _place(self, module: torch.nn.Module) -> torch.nn.Module:
        module = distributed.sync_batchnorm(module, self.info, self.device, self.config.sync_bn)
        return module.to(self.device, memory_format=torch.channels_last)

    def _compiled(self, module: torch.nn.Module) -> torch.nn.Module:
        """``torch.compile`` when the config asks (not with a gradient penalty's double backward, nor
        for ProGAN, whose growing changes the graph)."""
        if not self.config.compile or self.preset.gp_weight or hasattr(self.G, "set_level"):
            return module
        return torch.compile(module)

    def _batches(self) -> BatchSource:
        cfg = self.config
        info = dataset_version(cfg.dataset, cfg.dataset_id, cfg.dataset_fingerprint)
        images = load_images(info, cfg.resolution, split=cfg.split)
        rows = np.ones(len(images), dtype=bool)
        if cfg.only_class is not None:
            rows = images.labels == cfg.only_class
        label_ids = (
            encode_labels(images.labels[rows], cfg.class_names)
            if cfg.n_classes
            else np.zeros(int(rows.sum()), dtype=np.int64)
        )
        return BatchSource(
            np.asarray(images.images[rows]),
            label_ids,
            self.local_batch,
            cfg.seed,
            self.device,
            self.info.rank,
            self.info.world_size,
            channels_last=True,
        )

    def _autocast(self) -> torch.autocast:
        return torch.autocast(
            self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None
        )

    def _labels(self, labels: torch.Tensor) -> torch.Tensor | None:
        return labels if self.config.n_classes else None

    def _backward(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def noise(self, n: int) -> torch.Tensor:
        """Fresh latent vectors from this rank's random stream."""
        return torch.randn(n, self.config.z_dim, device=self.device)

    def generate(self, labels: torch.Tensor | None, n: int, keep_graph: bool) -> torch.Tensor:
        """A fake batch from fresh noise; with ``keep_graph`` the generator step reuses it (one forward)."""
        z = self.noise(n)
        with self._autocast(), torch.set_grad_enabled(keep_graph):
            return self.G_train(z, labels)

    def d_step(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None) -> losses.Stats:
        """One discriminator update on a real batch and a fake batch with the same labels."""
        self.opt_d.zero_grad(set_to_none=True)
        with self._autocast():
            loss, stats = losses.discriminator_loss(
                self.preset.loss,
                self.D_train,
                real,
                fake,
                labels,
                gp_weight=self.preset.gp_weight or 10.0,
                augment=self.tools.augment,
                r1_weight=losses.lazy_r1_weight(self.preset.r1_gamma, self.preset.r1_every, self.step),
                real_losses=self.preset.real_losses,
            )
        self._backward(loss, self.opt_d)
        losses.after_d_step(self.preset.loss, self.D, self.preset.clip)
        self.tools.after_d_step(stats, real.shape[0])
        return stats

    def g_step(self, fake: torch.Tensor, labels: torch.Tensor | None) -> losses.Stats:
        """One generator update through the (just updated) discriminator, whose weights stay fixed here."""
        self.opt_g.zero_grad(set_to_none=True)
        frozen = not self.info.enabled  # DDP expects every parameter's gradient, so it keeps D's
        self.D.requires_grad_(not frozen)
        with self._autocast():
            loss, stats = losses.generator_loss(
                self.preset.loss, self.D_train, fake, labels, augment=self.tools.augment
            )
        self._backward(loss, self.opt_g)
        self.D.requires_grad_(True)
        self.tools.after_g_step(self.G)
        return stats

    def train_step(self) -> losses.Stats:
        """``n_critic`` discriminator steps, then one generator step on the last fake batch."""
        self.tools.set_step(self.step, self.config.steps, self.G, self.D)
        n_critic = self.preset.n_critic
        for i in range(n_critic):
            real, labels = self.data.batch(self.step * n_critic + i)
            labels = self._labels(labels)
            fake = self.generate(labels, real.shape[0], keep_graph=i == n_critic - 1)
            stats = self.d_step(real, fake, labels)
        stats.update(self.g_step(fake, labels))
        return stats

    def snapshot(self) -> Path:
        """Write the sample grid from fixed noise (samples/latest.png and a step-stamped copy); the images
        are drawn here, the PNG is encoded and written in the background."""
        path = grid_path(self.run_dir, self.step)
        self.writer.submit(partial(write_grid, self.fixed_samples(), path, self.config.stack))
        return path

    def fixed_samples(self) -> np.ndarray:
        """uint8 images from the config's fixed noise (the EMA generator when kept)."""
        return fixed_samples(self.tools.sampling_generator(self.G), self.config, self.device)

    def state(self, elapsed: float = 0.0, all_ranks: bool = True) -> dict[str, Any]:
        """Everything a resume needs, as tensors and JSON. With ``all_ranks`` (the default) a collective
        under DDP, so every rank calls it: every rank's random state is gathered, ADA's statistics folded."""
        own = capture_rng(self.device)
        rng = distributed.all_gather(own, self.info) if all_ranks else [own]
        return {
            "step": self.step,
            "elapsed": float(elapsed),
            "config": json.dumps(self.config.to_dict()),
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng_ranks": rng,
            **self.tools.state(all_ranks),
            **self.tracker.state(),
        }

    def save(self, elapsed: float | None = None, name: str = LATEST) -> Path:
        """Checkpoint into checkpoints/latest.pt (atomic; written in the background from a CPU copy).
        Call it on every rank; rank 0 writes. ``elapsed``: training seconds so far (default: as loaded).
        Another ``name`` (best.pt) is a rank-0 copy to sample from, saved without any collective."""
        path = self.run_dir / "checkpoints" / name
        state = self.state(self.elapsed_before if elapsed is None else elapsed, all_ranks=name == LATEST)
        if self.info.is_main:
            payload = cpu_copy(state)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.writer.submit(lambda: save_checkpoint(path, payload))
        return path

    def track(self, elapsed: float) -> dict[str, Any]:
        """Tracked FID/KID of the sampling generator (a metrics.jsonl row); a new lowest FID is kept as best.pt."""
        row = self.tracker.measure(self.tools.sampling_generator(self.G), self.step)
        append_metrics(self.metrics_path, {**row, "time": round(elapsed, 3)})
        if row["best"]:
            self.save(elapsed, BEST)
        return row

    def load(self, path: Path) -> None:
        """Continue from a checkpoint written by :meth:`save`, whichever device wrote it: it is read on
        the CPU and ``load_state_dict`` moves weights and optimizer state to this trainer's device."""
        ckpt = load_checkpoint(path, map_location="cpu")
        self.G.load_state_dict(ckpt["G"])
        self.D.load_state_dict(ckpt["D"])
        self.opt_g.load_state_dict(ckpt["opt_g"])
        self.opt_d.load_state_dict(ckpt["opt_d"])
        self.scaler.load_state_dict(ckpt["scaler"])
        self.tools.load(ckpt)
        self.tracker.load(ckpt)
        self.step = int(ckpt["step"])
        self.elapsed_before = float(ckpt.get("elapsed", 0.0))
        rank_states = ckpt.get("rng_ranks") or [ckpt["rng"]]  # older checkpoints: rank 0's state only
        if self.info.rank < len(rank_states):
            restore_rng(rank_states[self.info.rank], self.device)
        else:  # more ranks than when it was saved: a fresh stream per rank, distinct from the others
            seed_everything(self.config.seed + self.info.rank + 1_000_003 * self.step)
        if self.info.is_main:
            truncate_metrics(self.metrics_path, self.step)

    def log(self, stats: dict[str, float], images_per_sec: float, elapsed: float) -> None:
        """Append one metrics.jsonl line (``time``: training seconds since the run began, across resumes)."""
        row = {
            "step": self.step,
            "time": round(elapsed, 3),
            "images_per_sec": round(images_per_sec, 2),
            "ada_p": self.tools.ada_p,
            **{k: round(float(v), 6) for k, v in stats.items()},
        }
        append_metrics(self.metrics_path, row)

    def _should_snapshot(self) -> bool:
        step, cfg = self.step, self.config
        return step % cfg.sample_every == 0 or step == EARLY_SAMPLE_STEP or step == cfg.steps

    def train(self, progress_fn: ProgressFn | None = None, abort_fn: AbortFn | None = None) -> int:
        """Train until ``config.steps`` (or until ``abort_fn()`` is true); returns the step reached.

        With one process ``abort_fn`` is polled before every step; under DDP at every tick, and the
        ranks stop together when any of them saw it true.
        """
        cfg, main, ddp = self.config, self.info.is_main, self.info.enabled
        images_per_step = cfg.batch_size * self.preset.n_critic
        started = window_start = time.perf_counter()
        window_steps, tick, stop = 0, TickStats(), False
        try:
            while self.step < cfg.steps and not stop:
                if not ddp and abort_fn is not None and abort_fn():
                    break
                tick.add(self.train_step())
                self.step += 1
                window_steps += 1
                at_tick = is_tick(self.step, cfg.log_every, cfg.steps)
                if at_tick:  # the tick's one host sync, so the clock below counts the finished work
                    stats, stop = tick.reduce(self.info, ddp and abort_fn is not None and abort_fn())
                now = time.perf_counter()
                elapsed = self.elapsed_before + now - started
                if at_tick:
                    rate = window_steps * images_per_step / max(now - window_start, 1e-9)
                    window_start, window_steps = now, 0
                    if main:
                        self.log(stats, rate, elapsed)
                        if progress_fn:
                            progress_fn(self.step, cfg.steps, {**stats, "images_per_sec": rate})
                if main and self._should_snapshot():
                    self.snapshot()
                if main and self.tracker.due(self.step, cfg.steps):
                    self.track(elapsed)
                if self.step % cfg.checkpoint_every == 0:
                    self.save(elapsed)
            if self.step % cfg.checkpoint_every:
                self.save(self.elapsed_before + time.perf_counter() - started)
        finally:
            self.writer.close()
        return self.step


def create_run(config: TrainConfig, run_id: str | None = None) -> str:
    """A new run folder holding config.json (channels, stack and classes filled from the dataset); its id."""
    info = get_dataset(config.dataset)
    config.channels, config.stack = info.channels, info.stack
    config.dataset, config.dataset_id, config.dataset_fingerprint = info.name, info.id, info.fingerprint
    if config.conditional != Conditioning.NONE:
        if not info.labelled:
            raise ValueError(f"dataset {info.name!r} has no labels (one class): choose conditioning 'none'")
        config.class_names = sorted(info.classes)
    validate(model_config(config))
    run_id = run_id or runs.new_run_id(config.arch)
    folder = runs.run_dir(run_id)
    folder.mkdir(parents=True)
    save_config(config, folder)
    runs.write_status(folder, "created", 0, config.steps, created=workspace.now_iso())
    return run_id


def create_shared_run(config: TrainConfig, timeout: float = 120.0) -> str:
    """Under torchrun: rank 0 creates the run under the launcher-derived id, the other ranks wait for it."""
    run_id = distributed.shared_run_id(config.arch)
    if int(os.environ.get("RANK", "0")) == 0:
        return create_run(config, run_id)
    deadline = time.monotonic() + timeout
    while not (runs.run_dir(run_id) / "config.json").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"rank 0 did not create run {run_id} within {timeout:.0f} s")
        time.sleep(0.2)
    return run_id


def _parts(config: TrainConfig, folder: Path) -> list[tuple[TrainConfig, Path]]:
    """(config, folder) of each model to train: the run itself, or one unconditional model per class."""
    if config.conditional != Conditioning.PER_CLASS:
        return [(config, folder)]
    parts = []
    for label in config.class_names:
        sub = TrainConfig.from_dict(
            {
                **config.to_dict(),
                "conditional": Conditioning.NONE,
                "class_names": [label],
                "only_class": label,
            }
        )
        parts.append((sub, folder / "classes" / label))
    return parts


def train_run(
    run_id: str, progress_fn: ProgressFn | None = None, abort_fn: AbortFn | None = None
) -> dict[str, Any]:
    """Train (or resume) run ``run_id`` to its configured steps; per-class runs train each class in turn.

    The run folder's lock is held throughout (by rank 0 under torchrun): a second process asked to train
    the same run raises :class:`medgan.train.lock.RunBusy` instead of writing into it too.
    """
    folder = runs.run_dir(run_id)
    config = load_config(folder)
    info = distributed.setup(resolve_device(config.device, distributed.DistInfo()).type)
    try:
        with RunLock(folder) if info.is_main else nullcontext():
            done, total = _train_parts(config, folder, info, progress_fn, abort_fn)
    finally:
        distributed.teardown(info)
    status = "done" if done >= total else "cancelled"
    if info.is_main:
        created = runs.read_status(folder).get("created", workspace.now_iso())
        runs.write_status(folder, status, done, total, created=created)
    return {"run_id": run_id, "status": status, "step": done, "total_steps": total}


def _train_parts(
    config: TrainConfig,
    folder: Path,
    info: distributed.DistInfo,
    progress_fn: ProgressFn | None,
    abort_fn: AbortFn | None,
) -> tuple[int, int]:
    """Train each part of the run in turn; ``(steps done, total steps)`` over all parts."""
    status = runs.read_status(folder)
    created, before = status.get("created", workspace.now_iso()), int(status.get("step", 0))
    parts = _parts(config, folder)
    total, done = config.steps * len(parts), 0

    def starting(name: str) -> None:
        if info.is_main:
            runs.write_status(folder, "starting", before, total, created=created, phase=name)

    for k, (sub_config, sub_dir) in enumerate(parts):
        if info.is_main and sub_dir != folder:
            sub_dir.mkdir(parents=True, exist_ok=True)
            save_config(sub_config, sub_dir)

        def progress(step: int, _total: int, stats: dict[str, float], offset: int = k * config.steps) -> None:
            runs.write_status(folder, "running", offset + step, total, created=created)
            if progress_fn:
                progress_fn(offset + step, total, stats)

        trainer = Trainer(sub_config, sub_dir, info, on_phase=starting if k == 0 else None)
        done = k * config.steps + trainer.train(progress, abort_fn)
        if trainer.step < sub_config.steps:
            break
    return done, total
