"""What a node's SSH coordinates may look like: checked before any of them reaches `ssh` or a shell.

Pure functions (no I/O); each returns the value or raises ValueError with a reason for the caller.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import PurePosixPath

MAX_HOST = 253
MAX_BASE_PATH = 512
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
# POSIX portable user names (Debian's default NAME_REGEX, with upper case allowed): never a leading '-'.
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
# The remote side runs a shell: paths are quoted there too, but only plain characters get that far.
_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$")


def check_host(value: str) -> str:
    """A DNS host name or an IP literal (IPv6 without brackets or zone); nothing ssh could read as
    an option, a user, a port or a shell word."""
    if not value or len(value) > MAX_HOST:
        raise ValueError(f"must be a host name or IP address of 1 to {MAX_HOST} characters")
    if ":" in value:
        try:
            ipaddress.IPv6Address(value)  # "%zone" suffixes are refused below: '%' is not allowed
        except ValueError:
            raise ValueError("is not a valid IPv6 address") from None
        if "%" in value:
            raise ValueError("IPv6 zone ids are not supported")
        return value
    if not _HOSTNAME.fullmatch(value):
        raise ValueError("must be a host name (letters, digits, inner '-' and '.') or an IP address")
    if value.rsplit(".", 1)[-1].isdigit():
        # All-numeric names are addresses; resolvers read "010.1" or "127.1" in surprising ways.
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError("is neither a valid IPv4 address nor a host name") from None
    return value


def check_user(value: str) -> str:
    if not _USER.fullmatch(value):
        raise ValueError(
            "must be a POSIX user name: a letter or '_' first, then letters, digits, '_', '.', '-' "
            "(at most 32 characters)"
        )
    return value


def check_base_path(value: str) -> str:
    """An absolute POSIX path of plain characters, without '.' or '..' segments, and not '/'."""
    if len(value) > MAX_BASE_PATH:
        raise ValueError(f"must be at most {MAX_BASE_PATH} characters")
    if not _PATH.fullmatch(value):
        raise ValueError("must be an absolute path of letters, digits, '.', '_', '-' and '/'")
    parts = PurePosixPath(value).parts
    if any(part in (".", "..") for part in value.split("/")):
        raise ValueError("must not contain '.' or '..' segments")
    if len(parts) < 2:
        raise ValueError("must not be the root directory; choose a dedicated folder")
    return value
