"""FID over training steps from a run's snapshot grids (the trainer's own grid format)."""

import json

import numpy as np

from medgan.data.phantom import phantom_image
from medgan.generate import image_grid
from medgan.metrics.curve import fid_over_steps, grid_tiles
from medgan.workspace import subdir


def _write_run(steps_to_images: dict[int, np.ndarray]) -> str:
    folder = subdir("runs", "curve-run")
    (folder / "config.json").write_text(json.dumps({"dataset": "demo-phantom", "resolution": 64, "channels": 1}))
    (folder / "samples").mkdir()
    for step, images in steps_to_images.items():
        image_grid(images, 8).save(folder / "samples" / f"step_{step:07d}.png")
    return "curve-run"


def test_grid_tiles_recover_the_images():
    images = np.random.default_rng(0).integers(0, 256, (16, 1, 64, 64), dtype=np.uint8)
    path = subdir("tmp") / "grid.png"
    image_grid(images, 8).save(path)
    np.testing.assert_array_equal(grid_tiles(path, 64), images)


def test_fid_falls_as_samples_approach_the_data(demo_with_domain):
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (16, 1, 64, 64), dtype=np.uint8)
    phantoms = np.stack([phantom_image(rng, i % 2 == 0, 64)[None] for i in range(16)])
    blurred = ((noise.astype(int) + phantoms) // 2).astype(np.uint8)
    run_id = _write_run({100: noise, 200: blurred, 300: phantoms})
    curve = fid_over_steps(run_id)
    fids = [p["fid"] for p in curve["points"]]
    assert [p["step"] for p in curve["points"]] == [100, 200, 300] and all(p["n"] == 16 for p in curve["points"])
    assert fids[0] > fids[1] > fids[2]
    assert fids[2] < curve["baseline"] + 4 * curve["baseline_sd"]  # real-like samples reach the same-n floor
    assert curve["extractor"].startswith("domain-CNN")
    assert fid_over_steps(run_id)["points"] == curve["points"]  # second call: from the per-grid cache
