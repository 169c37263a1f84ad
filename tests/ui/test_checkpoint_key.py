"""Generator and gallery caches are keyed by the checkpoint's content, hashed once per file version."""

from __future__ import annotations

import os
import shutil

from medgan import runs, workspace


def test_key_follows_content_even_at_the_same_size_and_mtime(lab, monkeypatch, tmp_path):
    (checkpoint,) = runs.checkpoint_files(lab)
    calls = []
    digest = workspace.file_digest
    monkeypatch.setattr(workspace, "file_digest", lambda path: calls.append(path) or digest(path))
    runs._digest.cache_clear()
    key = runs.checkpoint_key(lab)
    assert runs.checkpoint_key(lab) == key and len(calls) == 1  # one read per file version
    assert digest(checkpoint) in key
    stat = checkpoint.stat()
    data = bytearray(checkpoint.read_bytes())
    data[-1] ^= 0xFF  # rewritten in place: same size, mtime put back
    checkpoint.write_bytes(bytes(data))
    os.utime(checkpoint, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    rewritten = runs.checkpoint_key(lab)
    assert rewritten != key and len(calls) == 2
    other = tmp_path / "other.pt"
    data[-1] ^= 0xFF
    other.write_bytes(bytes(data))
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    shutil.copy2(other, checkpoint)  # the original copied back over it, metadata and all
    assert runs.checkpoint_key(lab) == key  # same bytes, same key: the cached generator is right again
    checkpoint.unlink()
    assert runs.checkpoint_key(lab).endswith(":missing")
