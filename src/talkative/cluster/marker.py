"""The workspaces root's marker: the cluster id of the database whose agents live under it.

Written once, by the process that creates the cluster's id, and read by every process that starts
after it. A process whose root lacks it is looking at a folder of its own (a local disk, a mount
that failed), not at the cluster's shared one: the agents it would run keep their files elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from talkative.auth.secrets import ConfigError

MARKER_NAME = ".talkative-cluster"


def marker_path(root: Path) -> Path:
    return root / MARKER_NAME


def read_marker(root: Path) -> str | None:
    try:
        return marker_path(root).read_text().strip() or None
    except FileNotFoundError:
        return None


def claim(root: Path, cluster_id: str) -> None:
    """Marks the root as this new cluster's; refuses a root that another cluster marked."""
    found = read_marker(root)
    if found is not None and found != cluster_id:
        raise ConfigError(
            f"TALKATIVE_WORKSPACES_DIR: {root} holds the workspaces of another cluster ({found}, "
            f"in {marker_path(root)}), not of this database's. Point TALKATIVE_WORKSPACES_DIR at "
            f"this cluster's own shared folder, or delete {marker_path(root)} if this folder is to "
            "be taken over."
        )
    root.mkdir(parents=True, exist_ok=True)
    temporary = root / f"{MARKER_NAME}.{os.getpid()}.tmp"
    temporary.write_text(cluster_id + "\n")
    temporary.replace(marker_path(root))


def check(root: Path, cluster_id: str) -> None:
    """Refuses a workspaces root that does not hold this cluster's marker."""
    found = read_marker(root)
    if found == cluster_id:
        return
    held = f"holds the marker of another cluster ({found})" if found else "holds no marker"
    raise ConfigError(
        f"TALKATIVE_WORKSPACES_DIR: {root} is not this cluster's shared workspaces folder: it {held}, "
        f"where the processes already running on this database wrote {cluster_id} to "
        f"{MARKER_NAME}. Every process of a cluster must see the same folder (shared storage); "
        "point TALKATIVE_WORKSPACES_DIR at it."
    )
