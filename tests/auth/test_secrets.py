"""Startup refuses unsafe secrets; a first start with nothing configured makes a strong one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from talkative.auth.secrets import SECRET_FILE_NAME, ConfigError, resolve_auth, weakness
from talkative.main import create_app
from talkative.settings import Settings


def _settings(tmp_path: Path, **env: object) -> Settings:
    return Settings(TALKATIVE_DATA_DIR=tmp_path, **env)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("short", "at least 32"),
        ("a" * 64, "distinct characters"),
        ("abababababababababababababababab", "distinct characters"),
        ("my-super-secret-jwt-key-for-prod-2024!", "'secret'"),
        ("changeme-changeme-Changeme-1234567890", "'changeme'"),
        ("your-256-bit-key-goes-here-XYZ-1234567", "'your-'"),
    ],
)
def test_weak_secrets_refused_at_startup(tmp_path: Path, secret: str, reason: str) -> None:
    with pytest.raises(ConfigError, match="AUTH_JWT_SECRET is too weak") as excinfo:
        create_app(_settings(tmp_path, AUTH_JWT_SECRET=secret))
    assert reason in str(excinfo.value)


def test_strong_secret_accepted(tmp_path: Path) -> None:
    secret = "Zq8vN3kR0tY7wB2mX5cL9pH4jF6dS1gA-uE_"
    assert weakness(secret) is None
    assert resolve_auth(_settings(tmp_path, AUTH_JWT_SECRET=secret)).source == "env"


def test_first_start_generates_a_private_secret(tmp_path: Path) -> None:
    first = resolve_auth(_settings(tmp_path))
    path = tmp_path / SECRET_FILE_NAME
    assert first.source == "generated"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert weakness(first.secret) is None
    second = resolve_auth(_settings(tmp_path))
    assert (second.source, second.secret) == ("file", first.secret)


def test_world_readable_secret_file_refused(tmp_path: Path) -> None:
    resolve_auth(_settings(tmp_path))
    (tmp_path / SECRET_FILE_NAME).chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        resolve_auth(_settings(tmp_path))


def test_auth_disabled_only_on_loopback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        resolve_auth(_settings(tmp_path, AUTH_DISABLED=True, TALKATIVE_HOST="0.0.0.0"))
    config = resolve_auth(_settings(tmp_path, AUTH_DISABLED=True, TALKATIVE_HOST="127.0.0.1"))
    assert config.disabled
    assert "AUTHENTICATION IS DISABLED" in caplog.text
