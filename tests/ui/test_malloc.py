"""The server caps glibc's malloc arenas (against the resident-memory creep bench/server.py measured)."""

from __future__ import annotations

import platform

import pytest

from medgan.ui.malloc import cap_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's arena cap is glibc's")
def test_arena_cap_is_set_on_glibc():
    assert cap_malloc_arenas(2) is True


def test_the_environment_setting_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert cap_malloc_arenas(2) is False
