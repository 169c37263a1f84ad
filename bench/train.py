"""Training throughput: MedGAN's trainer against the PyTorch DCGAN tutorial loop, same run, same networks.

Reference: the DCGAN tutorial (pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html) as people run it:
PNG files read by ``torchvision.datasets.ImageFolder`` through a ``DataLoader`` (2 workers, shuffle), the
tutorial's Generator / Discriminator (64 px, ngf = ndf = 64, nz = 100, here 1 channel), BCE loss, Adam
(2e-4, beta1 0.5). Ours: ``medgan.train.trainer.Trainer`` with ``dcgan`` at width 64 (the same networks)
on the dataset's uint8 cache. Both train on the demo phantom images at the same batch size; rounds
alternate so a busy machine slows both alike. Prints real images per second and the ratio (ours / ref)
of each round (both measured back to back) and their median.

    python bench/train.py [--batch-size 32] [--steps 10] [--rounds 2] [--device auto]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
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


def write_pngs(folder: Path) -> Path:
    """The demo dataset's 64 px images as PNG files in class folders (what ImageFolder reads)."""
    from medgan.data.phantom import ensure_demo_dataset
    from medgan.data.store import load_images
    from medgan.generate import write_pngs as save

    images = load_images(ensure_demo_dataset(), 64)
    for label in images.class_names:
        save(images.images[images.labels == label], folder / label)
    return folder


def reference_rate(folder: Path, batch_size: int, steps: int, device: torch.device) -> float:
    """Real images per second of the tutorial loop (after two warm-up iterations)."""
    import torchvision.datasets as dset
    import torchvision.transforms as transforms

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
    done, started = 0, 0.0
    while done < steps + 2:
        for data, _ in loader:
            if done == 2:
                started = time.perf_counter()
            real = data.to(device)
            b = real.size(0)
            netD.zero_grad()
            label = torch.full((b,), 1.0, device=device)
            errD_real = criterion(netD(real).view(-1), label)
            errD_real.backward()
            fake = netG(torch.randn(b, NZ, 1, 1, device=device))
            label.fill_(0.0)
            errD_fake = criterion(netD(fake.detach()).view(-1), label)
            errD_fake.backward()
            optD.step()
            netG.zero_grad()
            label.fill_(1.0)
            errG = criterion(netD(fake).view(-1), label)
            errG.backward()
            optG.step()
            done += 1
            if done == steps + 2:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - started)


def ours_rate(batch_size: int, steps: int, device: str) -> float:
    """Real images per second of MedGAN's trainer on the same networks (after two warm-up steps)."""
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
        steps=steps + 2,
        ema=False,
        device=device,
    )
    run_id = create_run(config)
    trainer = Trainer(config, runs.run_dir(run_id))
    for _ in range(2):
        trainer.train_step()
        trainer.step += 1
    started = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
        trainer.step += 1
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round (after 2 warm-up)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MEDGAN_HOME"] = str(Path(tmp) / "workspace")
        device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        folder = write_pngs(Path(tmp) / "pngs")
        ref, ours = [], []
        for i in range(args.rounds):
            ref.append(reference_rate(folder, args.batch_size, args.steps, torch.device(device)))
            ours.append(ours_rate(args.batch_size, args.steps, device))
            print(
                f"round {i + 1}: reference {ref[-1]:.1f} images/s, medgan {ours[-1]:.1f} images/s", flush=True
            )
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    ratios = [o / r for o, r in zip(ours, ref, strict=True)]
    print(f"device: {name}; batch {args.batch_size}; {args.steps} timed steps x {args.rounds} rounds")
    print(
        f"reference (tutorial DCGAN, ImageFolder + DataLoader): {statistics.median(ref):.1f} images/s (median)"
    )
    print(
        f"medgan trainer (dcgan width 64, uint8 cache):        {statistics.median(ours):.1f} images/s (median)"
    )
    print(f"ratio medgan / reference, per round: {', '.join(f'{x:.2f}' for x in ratios)}")
    print(f"ratio medgan / reference: {statistics.median(ratios):.2f}x (median of the rounds' ratios)")


if __name__ == "__main__":
    main()
