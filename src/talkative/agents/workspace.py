"""An agent's workspace on disk: the only place its skills may read or write."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from talkative.workspaces import STORED_PREFIX

# A tenant id that is a slug names its folder as is; any other id (tokens allow any string) gets
# a digest, marked by a character no slug has, so it never collides with a slug or walks ('..', '/').
_SAFE_TENANT = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SUBDIRS = ("skills", "inputs", "outputs")
HEARTBEAT_HEADER = (
    "# Heartbeat\n\n"
    "Each `RUN <command>` line below runs through the sandboxed tool runner on every heartbeat\n"
    'and when you ask the agent to "run heartbeat now".\n\n'
)


def tenant_folder(tenant_id: str) -> str:
    """The name of the tenant's own folder (under the workspaces dir, and the fleet's local root)."""
    if _SAFE_TENANT.fullmatch(tenant_id):
        return tenant_id
    return "_" + hashlib.sha256(tenant_id.encode()).hexdigest()[:32]


def relative_path(tenant_id: str, folder: str) -> str:
    """An agent's workspace as stored: `workspaces/<tenant folder>/<folder>`, the first segment
    standing for the workspaces root (talkative.workspaces.resolve).

    Agents created before per-tenant folders keep their stored `workspaces/<folder>` (see
    docs/operations.md); every path is resolved from the stored value, never rebuilt.
    """
    return f"{STORED_PREFIX}{tenant_folder(tenant_id)}/{folder}"


def create_workspace(path: Path, *, heartbeat_minutes: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for sub in SUBDIRS:
        (path / sub).mkdir(exist_ok=True)
    write_config(path, heartbeat_minutes=heartbeat_minutes)
    heartbeat = path / "HEARTBEAT.md"
    if not heartbeat.exists():
        heartbeat.write_text(HEARTBEAT_HEADER)


def write_config(path: Path, *, heartbeat_minutes: int) -> None:
    config = path / "config.json"
    current: dict[str, object] = {}
    if config.exists():
        try:
            loaded = json.loads(config.read_text())
            current = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            current = {}
    current["heartbeatMinutes"] = heartbeat_minutes
    tmp = config.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(current, indent=2) + "\n")
    tmp.replace(config)
