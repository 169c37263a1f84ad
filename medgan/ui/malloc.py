"""Cap glibc's malloc arenas in the Streamlit server process.

glibc gives each thread that contends for the allocator its own arena (up to 8 per core), and Streamlit runs
every session's script in threads: freed memory then stays spread over many arenas and the server's resident
memory creeps up. ``bench/server.py --memory-minutes 30`` at 20 sessions measured 0.22 MB/min after warm-up
with the default, and a flat line with ``MALLOC_ARENA_MAX=2``. ``mallopt`` sets the same cap from inside the
process, for arenas made after the call (the first page run, before sessions multiply).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc malloc.h


def cap_malloc_arenas(arenas: int = 2) -> bool:
    """Limit glibc to ``arenas`` malloc arenas (``MALLOC_ARENA_MAX`` in the environment wins); True when set.
    A no-op (False) where the C library is not glibc."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))
