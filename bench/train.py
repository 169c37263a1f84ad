"""Training throughput of the loop that ships: MedGAN's ``Trainer.train()`` against the PyTorch DCGAN tutorial loop.

Reference: the DCGAN tutorial (pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html) as people run it:
PNG files read by ``torchvision.datasets.ImageFolder`` through a ``DataLoader`` (2 workers, shuffle), the
tutorial's Generator / Discriminator (64 px, ngf = ndf = 64, nz = 100, here 1 channel), BCE loss, Adam
(2e-4, beta1 0.5), and its bookkeeping (five ``.item()`` per iteration for the loss lists, a print every 50
iterations, a fixed-noise grid every 500). Ours: the whole ``Trainer.train()`` loop with ``dcgan`` at width
64 (the same networks) on the dataset's uint8 cache, with everything it does in a real run: metrics.jsonl
ticks, sample grids and checkpoints (``--every`` steps; default half the timed steps, so both happen) and
the final checkpoint. Precision: ours runs under ``config.amp`` (bf16 autocast on CPUs with AMX or AVX512-BF16, bf16/fp16
autocast on CUDA; fp32 elsewhere or with ``--no-amp``), the tutorial in fp32 as written; the output names
both, so ``--no-amp`` gives the fp32-vs-fp32 ratio. Both train on the demo phantom images at the same batch size; rounds alternate so a
busy machine slows both alike. Prints images per second of each round, the ratio (ours / ref) per round,
their median, the machine's load average, and with ``--roofline`` the model FLOPs of one step
(``torch.utils.flop_counter``) as a fraction of the device's dense bf16 peak.

    python bench/train.py [--batch-size 32] [--steps 20] [--rounds 3] [--device auto] [--compile] [--no-amp] [--roofline]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NZ, NGF, NDF, NC = 100, 64, 64, 1


class TutorialGenerator(nn.Module):
    """The tutorial's generator, verbatim apart from ``nc = 1``."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(NGF * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class TutorialDiscriminator(nn.Module):
    """The tutorial's discriminator, verbatim apart from ``nc = 1``."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


def write_pngs(folder: Path, images=None) -> Path:
    """Images (an ``ImageSet``; default the demo dataset at 64 px) as PNG files in class folders (ImageFolder)."""
    from medgan.data.phantom import ensure_demo_dataset
    from medgan.data.store import load_images
    from medgan.generate import write_pngs as save

    images = images if images is not None else load_images(ensure_demo_dataset(), 64)
    for label in images.class_names:
        save(images.images[images.labels == label], folder / label)
    return folder


def tutorial_loop(
    folder: Path, batch_size: int, device: torch.device, stop: Callable[[int], bool]
) -> TutorialGenerator:
    """The tutorial's training loop (with its bookkeeping) on the PNGs in ``folder`` until ``stop(done)``."""
    import torchvision.datasets as dset
    import torchvision.transforms as transforms
    import torchvision.utils as vutils

    dataset = dset.ImageFolder(
        root=str(folder),
        transform=transforms.Compose(
            [
                transforms.Grayscale(1),
                transforms.Resize(64),
                transforms.CenterCrop(64),
                transforms.ToTensor(),
                transforms.Normalize((0.5,), (0.5,)),
            ]
        ),
    )
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=True, num_workers=2, drop_last=True, persistent_workers=True
    )
    netG, netD = TutorialGenerator().to(device), TutorialDiscriminator().to(device)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    fixed_noise = torch.randn(64, NZ, 1, 1, device=device)
    G_losses, D_losses, img_list = [], [], []
    done = 0
    while not stop(done):
        for i, (data, _) in enumerate(loader):
            real = data.to(device)
            b = real.size(0)
            netD.zero_grad()
            label = torch.full((b,), 1.0, device=device)
            output = netD(real).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            fake = netG(torch.randn(b, NZ, 1, 1, device=device))
            label.fill_(0.0)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optD.step()
            netG.zero_grad()
            label.fill_(1.0)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optG.step()
            if i % 50 == 0:
                print(
                    f"[{done}] Loss_D {errD.item():.4f} Loss_G {errG.item():.4f} D(x) {D_x:.4f} "
                    f"D(G(z)) {D_G_z1:.4f} / {D_G_z2:.4f}",
                    file=sys.stderr,
                )
            G_losses.append(errG.item())
            D_losses.append(errD.item())
            if done % 500 == 0:
                with torch.no_grad():
                    img_list.append(
                        vutils.make_grid(netG(fixed_noise).detach().cpu(), padding=2, normalize=True)
                    )
            done += 1
            if stop(done):
                break
    return netG


def _timed(steps: int, warmup: int = 2) -> tuple[Callable[[int], bool], list[float]]:
    """A ``stop`` callback that starts a clock after ``warmup`` steps and stops after ``steps`` more."""
    started: list[float] = []

    def stop(done: int) -> bool:
        if done == warmup and not started:
            started.append(time.perf_counter())
        return done == warmup + steps

    return stop, started


def reference_rate(folder: Path, batch_size: int, steps: int, device: torch.device) -> float:
    """Real images per second of the tutorial loop (after two warm-up iterations)."""
    stop, started = _timed(steps)
    tutorial_loop(folder, batch_size, device, stop)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - started[0])


def medgan_trainer(
    batch_size: int, steps: int, device: str, every: int, compile: bool = False, amp: bool = True
):
    """A fresh run of ``dcgan`` at width 64 (the tutorial's networks) on the demo data, ready to train."""
    from medgan import runs
    from medgan.train.config import TrainConfig
    from medgan.train.trainer import Trainer, create_run

    config = TrainConfig(
        dataset="demo-phantom",
        arch="dcgan",
        resolution=64,
        batch_size=batch_size,
        width=64,
        z_dim=NZ,
        steps=steps,
        ema=False,
        device=device,
        sample_every=every,
        checkpoint_every=every,
        compile=compile,
        amp=amp,
        track_every=0,
    )
    return Trainer(config, runs.run_dir(create_run(config)))


def ours_rate(
    batch_size: int, steps: int, device: str, every: int, compile: bool = False, amp: bool = True
) -> tuple[float, str]:
    """Real images per second of ``Trainer.train()`` (logs, grids, checkpoints) after two warm-up steps,
    and the precision it trained in."""
    trainer = medgan_trainer(batch_size, 2, device, every, compile, amp)
    trainer.train()  # warm-up: 2 steps
    trainer.config.steps = 2 + steps
    started = time.perf_counter()
    trainer.train()  # returns after the final checkpoint is on disk
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    precision = f"{trainer.amp_dtype} autocast".replace("torch.", "") if trainer.amp_dtype else "fp32"
    return steps * batch_size / (time.perf_counter() - started), precision


def roofline_line(batch_size: int, device: str, images_per_sec: float) -> str:
    """Model FLOPs of one training step and their rate as a fraction of the device's dense bf16 peak."""
    from bench.roofline import peak_tflops, step_flops

    trainer = medgan_trainer(batch_size, 1, device, 1000)
    flops = step_flops(trainer.train_step)
    achieved = flops * images_per_sec / batch_size / 1e12
    name = torch.cuda.get_device_name() if trainer.device.type == "cuda" else "CPU"
    peak = peak_tflops(name)
    fraction = (
        f"{achieved / peak:.1%} of {peak:.0f} TFLOP/s dense bf16 ({name})"
        if peak
        else f"no peak known for {name}"
    )
    return f"roofline: {flops / 1e9:.2f} GFLOP per step, {achieved:.3f} TFLOP/s achieved, {fraction}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round (after 2 warm-up)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--every", type=int, help="grid and checkpoint interval (default: steps / 2)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--compile", action="store_true", help="torch.compile MedGAN's networks")
    parser.add_argument("--no-amp", action="store_true", help="MedGAN in fp32 too (config.amp off)")
    parser.add_argument("--roofline", action="store_true", help="also report the fraction of the bf16 peak")
    args = parser.parse_args()
    every = args.every or max(1, args.steps // 2)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MEDGAN_HOME"] = str(Path(tmp) / "workspace")
        device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        folder = write_pngs(Path(tmp) / "pngs")
        ref, ours = [], []
        for i in range(args.rounds):
            ref.append(reference_rate(folder, args.batch_size, args.steps, torch.device(device)))
            rate, precision = ours_rate(
                args.batch_size, args.steps, device, every, args.compile, not args.no_amp
            )
            ours.append(rate)
            print(
                f"round {i + 1}: reference {ref[-1]:.1f} images/s, medgan {ours[-1]:.1f} images/s", flush=True
            )
        roofline = roofline_line(args.batch_size, device, statistics.median(ours)) if args.roofline else ""
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    ratios = [o / r for o, r in zip(ours, ref, strict=True)]
    print(f"device: {name}; batch {args.batch_size}; {args.steps} timed steps x {args.rounds} rounds")
    print(
        f"load average (1 min) {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end, {os.cpu_count()} CPUs"
    )
    print(
        f"reference (tutorial DCGAN, ImageFolder + DataLoader, fp32): {statistics.median(ref):.1f} images/s (median)"
    )
    print(
        f"medgan Trainer.train() (logs, grids + checkpoints every {every} steps, "
        f"{precision}{', compiled' if args.compile else ''}): {statistics.median(ours):.1f} images/s (median)"
    )
    print(f"precision: medgan {precision}, reference fp32")
    print(f"ratio medgan / reference, per round: {', '.join(f'{x:.2f}' for x in ratios)}")
    print(f"ratio medgan / reference: {statistics.median(ratios):.2f}x (median of the rounds' ratios)")
    if roofline:
        print(roofline)


if __name__ == "__main__":
    main()
