"""An agent's folder as a node holds it, built with the same helpers as a local agent's workspace.

Layout: `config.json` (rewritten each time), `HEARTBEAT.md` (created once; a skill's `RUN` line is
added once), `skills/<name>/` (refreshed from the catalogue), `inputs/` and `outputs/` (the agent's
data: created if missing, sample inputs seeded only where no file exists, never overwritten).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from talkative.agents import workspace as agent_workspace
from talkative.skills import install
from talkative.skills.manifest import Skill

CONFIG_FILE = "config.json"
DEFAULT_HEARTBEAT_MINUTES = 30
# Entries a symlink must never stand in for: writing through one would land outside the folder.
_MANAGED = (CONFIG_FILE, install.HEARTBEAT_FILE, *agent_workspace.SUBDIRS)


@dataclass(frozen=True)
class Layout:
    """What to lay out: plain data, so no database session is held while files are written."""

    agent_id: str
    tenant_id: str
    name: str
    node_id: str
    skills: tuple[Skill, ...]
    provisioned_at: datetime

    @property
    def skill_names(self) -> list[str]:
        return [s.name for s in self.skills]

    def config(self) -> dict[str, object]:
        """config.json: who the agent is and what it runs; never a key, token or other secret."""
        return {
            "agent_id": self.agent_id,
            "tenant_id": self.tenant_id,
            "name": self.name,
            "node_id": self.node_id,
            "skills": self.skill_names,
            "heartbeatMinutes": DEFAULT_HEARTBEAT_MINUTES,
            "provisioned_at": self.provisioned_at.isoformat(),
        }


class UnsafeFolder(Exception):
    """The folder holds a symlink where a managed entry belongs."""


def lay_out(folder: Path, layout: Layout) -> None:
    """Creates or refreshes the agent's folder (see the module docstring for what is kept)."""
    for entry in (folder, *(folder / name for name in _MANAGED)):
        if entry.is_symlink():
            raise UnsafeFolder(f"{entry} is a symlink")
    agent_workspace.create_workspace(folder, heartbeat_minutes=DEFAULT_HEARTBEAT_MINUTES)
    for skill in layout.skills:
        install.install_skill(workspace=folder, skill=skill)
    _write_json(folder / CONFIG_FILE, layout.config())


def _write_json(path: Path, data: dict[str, object]) -> None:
    # Write-then-rename: a reader never sees half a config.
    fd, temp = tempfile.mkstemp(prefix=".config.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2) + "\n")
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
