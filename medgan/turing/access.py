"""Who may do what: the owner's admin password and a rater's token.

The owner's pages ask for a password when one is configured (``admin_password`` in Streamlit secrets, or
the ``MEDGAN_ADMIN_PASSWORD`` environment variable); the comparison is constant-time. A rater token opens
that rater's session only; an unknown or revoked token is refused with a message that says which.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

from medgan.turing import store

PASSWORD_ENV = "MEDGAN_ADMIN_PASSWORD"


class AccessRefused(PermissionError):
    """A token or password that does not open what was asked for."""


def admin_password(secrets: Mapping | None = None) -> str | None:
    """The configured admin password (secrets first, then the environment), or None when none is set."""
    value = None
    if secrets is not None:
        try:
            value = secrets.get("admin_password")
        except (FileNotFoundError, KeyError, AttributeError, OSError):
            value = None
    value = value or os.environ.get(PASSWORD_ENV)
    return str(value) if value else None


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of a typed password with the configured one."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def rater_for_token(token: str | None) -> store.Rater:
    """The active rater holding ``token``; raises :class:`AccessRefused` for a missing, unknown or revoked one."""
    if not token:
        raise AccessRefused("This page needs a rater link (…?rater=TOKEN). Ask the study owner for yours.")
    rater = store.find_rater(token)
    if rater is None:
        raise AccessRefused(
            "This rater link is not valid. Check that you copied the whole link, "
            "or ask the study owner for a new one."
        )
    if rater.revoked:
        raise AccessRefused("This rater link has been revoked by the study owner; it can no longer be used.")
    return rater
