"""What ``app.py`` wraps around every page: the owner gate and a clear message on a full or read-only workspace."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from medgan import failures, workspace

LOW_SPACE_BYTES = 200 * 1024**2


def owner_gate() -> None:
    """Stop the page unless the admin password, when one is configured, was entered in this session.

    ``app.py`` calls it before any owner page runs, so every page in the navigation (and every page added
    later) is protected; rater links never reach it. The password comes from ``st.secrets["admin_password"]``
    or ``MEDGAN_ADMIN_PASSWORD``; without one the pages are open (a single-user install). It also names the
    owner's session as the actor of the audit log.
    """
    from medgan import audit
    from medgan.turing.access import admin_password, password_matches

    audit.set_actor(_session_name())
    expected = admin_password(st.secrets)
    if expected is None or st.session_state.get("admin_ok"):
        return
    typed = st.text_input("Admin password", type="password", key="owner_admin_password")
    if not typed:
        st.info("This page is for the study owner: enter the admin password.", icon=":material/lock:")
        st.stop()
    if not password_matches(typed, expected):
        st.error("Wrong admin password.", icon=":material/block:")
        st.stop()
    st.session_state["admin_ok"] = True
    st.rerun()


def _session_name() -> str:
    """``owner@<client address> (session <first 8 of the session id>)`` for the audit log."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    session = ctx.session_id[:8] if ctx is not None else "?"
    try:
        address = st.context.ip_address or "local"
    except Exception:  # noqa: BLE001 - no client address outside a browser session (AppTest)
        address = "local"
    return f"owner@{address} (session {session})"


@st.cache_resource(show_spinner=False)
def _cleaned_once(home: str) -> int:
    """Remove temp files that killed writers left behind, once per server process and workspace."""
    return workspace.remove_stale_temp_files()


@contextmanager
def workspace_guard() -> Iterator[None]:
    """Run a page; a full or read-only workspace ends it with a message saying so instead of a traceback.

    Also warns above the page when the workspace's disk has less than 200 MiB free."""
    try:
        _cleaned_once(str(workspace.home()))
        free = shutil.disk_usage(workspace.home()).free
    except OSError as exc:
        st.error(failures.describe(exc), icon=":material/error:")
        st.stop()
    if free < LOW_SPACE_BYTES:
        st.warning(
            f"The workspace's disk has only {free / 1024**2:.0f} MiB free: imports, training and exports "
            "may fail. Free some space or move MEDGAN_HOME to a larger disk.",
            icon=":material/warning:",
        )
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        problem = failures.storage_problem(exc)
        if problem is None:
            raise
        st.error(f"This page cannot work right now: {problem}.", icon=":material/error:")
