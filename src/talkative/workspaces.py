"""Where an agent's workspace is on disk, from the path its row stores (a leaf: the runtime and the
agents package both resolve stored paths, and neither may import the other)."""

from __future__ import annotations

from pathlib import Path

# Stored paths begin with the workspaces root's name from when it could only be the data dir's
# `workspaces/` folder; they are kept as they are, so old rows and every process read them alike.
STORED_PREFIX = "workspaces/"


def resolve(root: Path, stored: str) -> Path:
    """The stored path under the workspaces root, wherever that root is configured."""
    return (root / stored.removeprefix(STORED_PREFIX)).resolve()
