"""The server's malloc arena cap: threads of a capped process share two glibc arenas instead of one each."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from medgan.malloc_arenas import limit_malloc_arenas

REPO_ROOT = Path(__file__).resolve().parents[1]
THREADS = 8

# Start THREADS threads that each malloc and stay alive, then write glibc's malloc_info XML to argv[2].
SCRIPT = f"""
import ctypes, sys, threading
from medgan.malloc_arenas import limit_malloc_arenas
if sys.argv[1] == "capped":
    assert limit_malloc_arenas(2)
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]
allocated, release = threading.Barrier({THREADS} + 1), threading.Event()
def work():
    libc.malloc(4096)
    allocated.wait()
    release.wait()
threads = [threading.Thread(target=work) for _ in range({THREADS})]
for t in threads:
    t.start()
allocated.wait()
fp = libc.fopen(sys.argv[2].encode(), b"w")
libc.malloc_info(0, fp)
libc.fclose(fp)
release.set()
for t in threads:
    t.join()
"""


def _arenas(mode: str, tmp_path: Path) -> int:
    """Arenas (glibc heaps) in a fresh process with THREADS live threads, ``mode`` capped or default."""
    report = tmp_path / f"malloc_info_{mode}.xml"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(report)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return report.read_text().count("<heap nr=")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the cap is a glibc setting")
def test_capped_threads_share_two_arenas(tmp_path):
    # uncapped, glibc gives most new threads an arena of their own
    assert _arenas("default", tmp_path) > THREADS // 2
    assert _arenas("capped", tmp_path) <= 2


def test_a_users_own_setting_is_left_alone(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
