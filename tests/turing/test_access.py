"""The owner's admin password: from secrets or the environment, compared in constant time."""

from __future__ import annotations

from medgan.turing.access import PASSWORD_ENV, admin_password, password_matches


class _MissingSecrets:
    """Like ``st.secrets`` without a secrets.toml: any access raises FileNotFoundError."""

    def get(self, key, default=None):
        raise FileNotFoundError("No secrets files found")


def test_no_password_configured(monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert admin_password() is None
    assert admin_password(_MissingSecrets()) is None
    assert admin_password({}) is None


def test_secrets_first_then_environment(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "from-env")
    assert admin_password({"admin_password": "from-secrets"}) == "from-secrets"
    assert admin_password({}) == "from-env"
    assert admin_password(_MissingSecrets()) == "from-env"


def test_password_matches():
    assert password_matches("s3cret-ä", "s3cret-ä")
    assert not password_matches("s3cret", "s3cret-ä")
    assert not password_matches("", "x")
