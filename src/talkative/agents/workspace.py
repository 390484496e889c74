"""An agent's workspace on disk: the only place its skills may read or write."""

from __future__ import annotations

import json
from pathlib import Path

SUBDIRS = ("skills", "inputs", "outputs")
HEARTBEAT_HEADER = (
    "# Heartbeat\n\n"
    "Each `RUN <command>` line below runs through the sandboxed tool runner on every heartbeat\n"
    'and when you ask the agent to "run heartbeat now".\n\n'
)


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
