"""A server-like data dir outside /tmp, with two workspaces and the secrets a skill must not see."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="talkative-sandbox-", dir="/var/tmp"))
    data = parent / "data"
    for folder in ("workspaces/a/skills/demo/scripts", "workspaces/a/skills/other", "workspaces/a/inputs",
                   "workspaces/a/outputs", "workspaces/b/inputs"):  # fmt: skip
        (data / folder).mkdir(parents=True)
    (data / "talkative.db").write_bytes(b"SQLite format 3\x00 agents, tokens")
    (data / "jwt-secret").write_text("jwt-secret-value")
    (data / "workspaces/a/skills/demo/SKILL.md").write_text("name: demo\nrequires_approval: true\n")
    (data / "workspaces/a/skills/other/SKILL.md").write_text("name: other\nrequires_approval: true\n")
    (data / "workspaces/b/inputs/inbox.json").write_text('["b private"]')
    (parent / "fleet-key").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n")
    (parent / "fleet-key").chmod(0o600)
    try:
        yield data
    finally:
        shutil.rmtree(parent)


@pytest.fixture
def listener() -> Iterator[int]:
    """A loopback port on the host that no run may reach."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]
