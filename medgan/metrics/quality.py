"""Full-reference image quality between each synthetic image and its nearest real image (pixel space).

The table of the skin-lesion GAN study (Baur C., Albarqouni S., Navab N., "Generating highly realistic
images of skin lesions with GANs", OR 2.0/CARE/CLIP/ISIC workshops, MICCAI 2018) reported these piq-style
metrics as mean +- sd. Metric papers: PSNR; SSIM (Wang et al., IEEE TIP 2004); MS-SSIM (Wang et al.,
Asilomar 2003); MS-GMSD (Zhang et al., IEEE ICIP 2017); MDSI (Nafchi et al., IEEE Access 2016); HaarPSI
(Reisenhofer et al., Signal Processing: Image Communication 2018). All computed by piq on [0, 1] images.

MS-SSIM with its default 5 scales needs images of at least 161 px; smaller images use the largest number
of scales that fits ((11 - 1) * 2^(scales - 1) + 1 <= size: 3 at 64 px, 4 at 128 px) with the paper's
first weights renormalised, and the table says how many scales were used. Upsampling instead would invent
detail the images do not have.
"""

from __future__ import annotations

import numpy as np
import piq
import torch

from medgan.data.imageops import is_rgb
from medgan.metrics.nearest import match_resolution, nearest_neighbours
from medgan.metrics.registry import Metric, metrics, register_metric

_MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim_scales(size: int, kernel_size: int = 11) -> int:
    """The number of MS-SSIM scales (at most 5) that fit an image of ``size`` px."""
    scales = 5
    while scales > 1 and (kernel_size - 1) * 2 ** (scales - 1) + 1 > size:
        scales -= 1
    return scales


@register_metric(
    "PSNR",
    "quality",
    higher_is_better=True,
    ideal=float("inf"),
    unit="dB",
    reference="peak signal-to-noise ratio",
)
def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """PSNR in dB (piq caps identical images at 80 dB)."""
    return piq.psnr(x, y, data_range=1.0, reduction="none")


@register_metric("SSIM", "quality", higher_is_better=True, ideal=1.0, reference="Wang et al. 2004")
def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Structural similarity (11 px Gaussian window)."""
    return piq.ssim(x, y, data_range=1.0, reduction="none")


@register_metric("MS-SSIM", "quality", higher_is_better=True, ideal=1.0, reference="Wang et al. 2003")
def ms_ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Multi-scale SSIM with as many of the 5 scales as the image size allows."""
    weights = torch.tensor(_MS_SSIM_WEIGHTS[: ms_ssim_scales(x.shape[-1])], dtype=x.dtype)
    return piq.multi_scale_ssim(x, y, data_range=1.0, reduction="none", scale_weights=weights)


@register_metric("MS-GMSD", "quality", higher_is_better=False, ideal=0.0, reference="Zhang et al. 2017")
def ms_gmsd(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Multi-scale gradient magnitude similarity deviation."""
    return piq.multi_scale_gmsd(x, y, data_range=1.0, reduction="none")


@register_metric("MDSI", "quality", higher_is_better=False, ideal=0.0, reference="Nafchi et al. 2016")
def mdsi(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean deviation similarity index (grey images are repeated to 3 channels, as MDSI is defined on RGB)."""
    if x.shape[1] == 1:
        x, y = x.repeat(1, 3, 1, 1), y.repeat(1, 3, 1, 1)
    return piq.mdsi(x, y, data_range=1.0, reduction="none")


@register_metric("HaarPSI", "quality", higher_is_better=True, ideal=1.0, reference="Reisenhofer et al. 2018")
def haarpsi(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Haar wavelet-based perceptual similarity index."""
    return piq.haarpsi(x, y, data_range=1.0, reduction="none")


def _score(metric: Metric, x: torch.Tensor, y: torch.Tensor, stack: bool = False) -> np.ndarray:
    """Per-image scores; 2.5D stacks (``stack``, or neither grey nor RGB) are scored per slice, averaged."""
    n, c = x.shape[:2]
    if c != 1 and not is_rgb(c, stack):
        x, y = x.reshape(n * c, 1, *x.shape[2:]), y.reshape(n * c, 1, *y.shape[2:])
    scores = metric.fn(x, y).double().numpy()
    return scores.reshape(n, -1).mean(axis=1)


def pairwise_quality(
    fake: np.ndarray, real: np.ndarray, batch_size: int = 64, stack: bool = False
) -> dict[str, np.ndarray]:
    """Every quality metric for aligned pairs ``fake[i]`` vs ``real[i]`` (uint8 (N, C, H, W); ``stack``: 2.5D
    slices, scored one by one, never as RGB); per-image arrays."""
    if fake.shape != real.shape:
        raise ValueError(f"pairs need equal shapes, got {fake.shape} and {real.shape}")
    out: dict[str, list[np.ndarray]] = {name: [] for name in metrics("quality")}
    with torch.no_grad():
        for start in range(0, len(fake), batch_size):
            x = torch.from_numpy(np.asarray(fake[start : start + batch_size], dtype=np.float32) / 255.0)
            y = torch.from_numpy(np.asarray(real[start : start + batch_size], dtype=np.float32) / 255.0)
            for name, metric in metrics("quality").items():
                out[name].append(_score(metric, x, y, stack))
    return {name: np.concatenate(parts) for name, parts in out.items()}


def quality_table(fake: np.ndarray, real: np.ndarray, stack: bool = False) -> dict:
    """Quality of each synthetic image against its nearest real image: per-metric mean, sd, n, and the pairs
    (``stack``: the images are 2.5D stacks, scored per slice).

    Returns ``{"rows": [{metric, mean, sd, n, unit, higher_is_better, ideal, note}], "nearest_index",
    "nearest_distance_rms"}`` where ``nearest_index`` indexes ``real``.
    """
    index, distance = nearest_neighbours(fake, real, space="pixel")
    scores = pairwise_quality(fake, match_resolution(np.asarray(real[index]), fake.shape[-1]), stack=stack)
    scales = ms_ssim_scales(fake.shape[-1])
    rows = []
    for name, metric in metrics("quality").items():
        values = scores[name]
        rows.append(
            {
                "metric": name,
                "mean": float(values.mean()),
                "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                "n": int(len(values)),
                "unit": metric.unit,
                "higher_is_better": metric.higher_is_better,
                "ideal": metric.ideal,
                "note": f"{scales} of 5 scales at {fake.shape[-1]} px"
                if name == "MS-SSIM" and scales < 5
                else "",
            }
        )
    return {"rows": rows, "nearest_index": index.tolist(), "nearest_distance_rms": distance.tolist()}
