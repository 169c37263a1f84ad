"""piq quality table: ideal values for identical images, ordering under noise, MS-SSIM scales, channels."""

import numpy as np
import pytest

from medgan.metrics.quality import ms_ssim_scales, pairwise_quality, quality_table

IDEAL = {"PSNR": 80.0, "SSIM": 1.0, "MS-SSIM": 1.0, "MS-GMSD": 0.0, "MDSI": 0.0, "HaarPSI": 1.0}


@pytest.fixture
def real():
    return np.random.default_rng(0).integers(0, 256, (12, 1, 64, 64), dtype=np.uint8)


def test_identical_images_reach_the_ideal_values(real):
    table = quality_table(real[:6].copy(), real)
    assert table["nearest_index"] == list(range(6)) and table["nearest_distance_rms"] == [0.0] * 6
    for row in table["rows"]:
        assert row["mean"] == pytest.approx(IDEAL[row["metric"]], abs=1e-5), row["metric"]
        assert row["n"] == 6
    assert table["rows"][2]["note"] == "3 of 5 scales at 64 px"  # PSNR is capped at 80 dB by piq's eps


def test_noise_moves_every_metric_away_from_ideal_in_proportion(real):
    rng = np.random.default_rng(1)
    mild = np.clip(real.astype(int) + rng.integers(-8, 9, real.shape), 0, 255).astype(np.uint8)
    strong = np.clip(real.astype(int) + rng.integers(-60, 61, real.shape), 0, 255).astype(np.uint8)
    a, b = pairwise_quality(mild, real), pairwise_quality(strong, real)
    assert 30 < a["PSNR"].mean() < 40 and b["PSNR"].mean() < a["PSNR"].mean()  # +-8 grey levels: ~35 dB
    for name in ("SSIM", "MS-SSIM", "HaarPSI"):
        assert b[name].mean() < a[name].mean() < 1.0
    for name in ("MS-GMSD", "MDSI"):
        assert b[name].mean() > a[name].mean() > 0.0


def test_ms_ssim_scales_fit_the_image_and_channels_are_handled(real):
    assert [ms_ssim_scales(s) for s in (32, 64, 128, 161, 256)] == [2, 3, 4, 5, 5]
    rgb = np.repeat(real[:4], 3, axis=1)
    grey_scores, rgb_scores = (
        pairwise_quality(real[:4], real[4:8]),
        pairwise_quality(rgb, np.repeat(real[4:8], 3, 1)),
    )
    # grey = RGB with equal channels
    np.testing.assert_allclose(grey_scores["MDSI"], rgb_scores["MDSI"], rtol=1e-4)
    # 2.5D stack of 5 frames
    frames = np.random.default_rng(2).integers(0, 256, (3, 5, 32, 32), dtype=np.uint8)
    scores = pairwise_quality(frames, frames)
    assert all(len(v) == 3 for v in scores.values()) and scores["SSIM"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal shapes"):
        pairwise_quality(real[:2], real[:3])


def test_a_three_slice_stack_is_scored_slice_by_slice_not_as_rgb():
    rng = np.random.default_rng(3)
    fake, real = (rng.integers(0, 256, (2, 3, 64, 64), dtype=np.uint8) for _ in range(2))
    stacked = pairwise_quality(fake, real, stack=True)
    slices = [pairwise_quality(fake[:, i : i + 1], real[:, i : i + 1]) for i in range(3)]
    for name, values in stacked.items():
        np.testing.assert_allclose(values, np.mean([s[name] for s in slices], axis=0), rtol=1e-6)
    assert not np.allclose(pairwise_quality(fake, real)["MDSI"], stacked["MDSI"])  # as RGB: another number
