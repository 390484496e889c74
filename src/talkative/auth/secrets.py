"""Where the signing secret comes from, and the refusal to run with a weak one."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from talkative.settings import Settings

log = logging.getLogger("talkative.auth")

MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARS = 10
SECRET_FILE_NAME = "jwt-secret"  # noqa: S105  # a file name, not a secret
FINGERPRINT_MESSAGE = b"talkative-secret-fingerprint"
# Values copied from docs and tutorials; a secret containing one is guessable.
WEAK_MARKERS = (
    "changeme",
    "change-me",
    "change_me",
    "password",
    "secret",
    "default",
    "example",
    "placeholder",
    "your-",
    "insecure",
    "123456",
    "qwerty",
    "abcdef",
)


class ConfigError(RuntimeError):
    """The server must not start with this configuration; the message says how to fix it."""


@dataclass(frozen=True)
class AuthConfig:
    secret: str
    source: Literal["env", "file", "generated", "disabled"]
    disabled: bool = False


def weakness(secret: str) -> str | None:
    """Why a secret is unfit to sign tokens, or None when it is fine."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it is {len(secret)} characters long; at least {MIN_SECRET_LENGTH} are required"
    if len(set(secret)) < MIN_DISTINCT_CHARS:
        return f"it uses fewer than {MIN_DISTINCT_CHARS} distinct characters"
    lowered = secret.lower()
    for marker in WEAK_MARKERS:
        if marker in lowered:
            return f"it contains the guessable word {marker!r}"
    return None


def fingerprint(auth: AuthConfig) -> str:
    """Tells apart processes that sign with different secrets without revealing either: an HMAC
    of a fixed message keyed by the secret (the processes of a cluster compare theirs)."""
    if auth.disabled:
        return "auth-disabled"
    return hmac.new(auth.secret.encode(), FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()


def resolve_auth(settings: Settings) -> AuthConfig:
    """Pick the signing secret: the environment's, else the data dir's, else a new one."""
    if settings.auth_disabled:
        if not settings.is_loopback:
            raise ConfigError(
                f"AUTH_DISABLED=true is only honoured on a loopback bind; host is {settings.host!r}. "
                "Unset AUTH_DISABLED or bind to 127.0.0.1."
            )
        log.warning(
            "AUTHENTICATION IS DISABLED (AUTH_DISABLED=true): every request acts as a platform "
            "admin. Use this for local development only."
        )
        return AuthConfig(secret="", source="disabled", disabled=True)
    if settings.jwt_secret is not None:
        problem = weakness(settings.jwt_secret)
        if problem:
            raise ConfigError(
                f"AUTH_JWT_SECRET is too weak: {problem}. Generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return AuthConfig(secret=settings.jwt_secret, source="env")
    return _secret_from_data_dir(settings.data_dir)


def _secret_from_data_dir(data_dir: Path) -> AuthConfig:
    path = data_dir / SECRET_FILE_NAME
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return AuthConfig(secret=_read_secret_file(path), source="file")
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    log.info("generated a new JWT signing secret in %s (mode 0600)", path)
    return AuthConfig(secret=secret, source="generated")


def _read_secret_file(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`.")
    secret = path.read_text().strip()
    problem = weakness(secret)
    if problem:
        raise ConfigError(f"the secret in {path} is too weak: {problem}. Delete the file to regenerate it.")
    return secret
