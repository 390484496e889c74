"""Signing and verifying a webhook body: HMAC-SHA256 over "<timestamp>.<body>" with a shared secret.

Pure (no I/O, no clock of its own), so that every channel that POSTs signed JSON (event webhooks,
and the approvals channel) signs the same way, and a receiver can copy `verify` as it is.
The header carries one or more `v1=<hex>` separated by spaces or commas: a receiver accepts a body
whose signature matches any of them (room for rotating a secret without a gap).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCHEME = "v1"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that marks a secret, not one)
DEFAULT_TOLERANCE_S = 300  # how old (or how far in the future) a signed timestamp may be


def new_secret() -> str:
    """A fresh signing secret (256 random bits); the HMAC key is its UTF-8 text, prefix included."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header: `v1=<hex>`."""
    return f"{SCHEME}={signature(secret, timestamp, body)}"


def verify(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature_header: str,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Whether `body` was signed with `secret` at `timestamp`, within `tolerance_s` of `now` (unix
    seconds): a stale or replayed request fails even with a good signature."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    expected = signature(secret, int(timestamp), body)
    for part in signature_header.replace(",", " ").split():
        scheme, _, value = part.partition("=")
        if scheme == SCHEME and hmac.compare_digest(value, expected):
            return True
    return False
