"""Cap glibc's malloc arenas in the Streamlit server, which runs every script run in a fresh thread.

glibc gives each new thread its own malloc arena (up to 8 per core) and keeps freed memory inside it, so
a long-lived server whose threads come and go fragments many arenas and its resident memory creeps. Two
arenas is the common remedy (the same as ``MALLOC_ARENA_MAX=2``); measured in ``bench/server.md``.
A ``MALLOC_ARENA_MAX`` the user set is left alone, and on a C library other than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8  # glibc's malloc.h
SERVER_ARENAS = 2


def limit_malloc_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Let this process's threads share at most ``arenas`` malloc arenas; ``True`` if the cap is now set.

    Cheap (no file or process opened), so a Streamlit script may call it on every run."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False  # glibc read the user's own setting at start / not glibc
    libc = ctypes.CDLL(None)  # the C library already loaded into this process
    if not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
        return False  # not glibc: its mallopt (if any) has other parameter numbers
    return bool(libc.mallopt(M_ARENA_MAX, arenas))
