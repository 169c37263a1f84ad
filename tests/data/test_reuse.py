"""Re-importing unchanged files with the same settings reuses the cache; any change decodes again."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from medgan.data.ingest import ingest
from medgan.data.store import delete_dataset, load_images, load_manifest


def _folder(tmp_path):
    src = tmp_path / "src"
    for label in ("a", "b"):
        (src / label).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((16, 16), 40 * i + (label == "b"), np.uint8)).save(
                src / label / f"{i}.png"
            )
    (src / "b" / "junk.txt").write_text("x")
    return src


def test_unchanged_source_reuses_the_cache(tmp_path):
    src = _folder(tmp_path)
    first = ingest(src, "first", resolution=32)
    messages = []
    second = ingest(src, "second", resolution=32, progress=lambda d, t, m: messages.append(m))
    assert first.reused_from is None and second.reused_from == "first"
    assert "reused the cache of first" in messages[-1]
    assert second.dataset.classes == first.dataset.classes and second.dataset.id != first.dataset.id
    assert [s.file for s in second.skipped] == ["b/junk.txt"]
    assert load_manifest(second.dataset).equals(load_manifest(first.dataset))
    delete_dataset("first")  # the reused cache is a hard link (or copy): deleting the first keeps the second
    assert np.array_equal(load_images(second.dataset).images[:, 0, 0, 0], [0, 40, 80, 1, 41, 81])


def test_changed_files_or_settings_decode_again(tmp_path):
    src = _folder(tmp_path)
    ingest(src, "first", resolution=32)
    assert ingest(src, "other-size", resolution=64).reused_from is None
    assert ingest(src, "no-labels", resolution=32, labels="none").reused_from is None
    path = src / "a" / "0.png"
    Image.fromarray(np.full((16, 16), 200, np.uint8)).save(path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    changed = ingest(src, "changed", resolution=32)
    assert changed.reused_from is None and load_images(changed.dataset).images[0, 0, 0, 0] == 200
