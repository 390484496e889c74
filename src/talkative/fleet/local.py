"""Provisioning onto this machine: the agent's folder under the node's base path, inside the local root."""

from __future__ import annotations

from pathlib import Path

from talkative.errors import TalkativeError
from talkative.fleet.exceptions import ProvisionFailed, UnsafeBasePath
from talkative.fleet.workspace import Layout, UnsafeFolder, lay_out


def base_folder(root: Path, base_path: str | None) -> Path:
    """The node's folder, resolved (symlinks included); refused unless it is inside `root`."""
    top = root.resolve()
    base = Path(base_path).resolve() if base_path else top
    if not base.is_relative_to(top):
        raise UnsafeBasePath(
            f"base path {base_path} is outside the local fleet root {top} (TALKATIVE_FLEET_LOCAL_ROOT)"
        )
    return base


def provision_local(root: Path, base_path: str | None, layout: Layout) -> str:
    """Lays the agent out in `<base>/<agent_id>/` and returns that folder; blocking (run in a thread)."""
    base = base_folder(root, base_path)
    try:
        base.mkdir(parents=True, exist_ok=True)
        # Checked again once it exists: a symlink created meanwhile must not lead outside the root.
        base = base_folder(root, str(base))
        folder = base / layout.agent_id
        if folder.resolve().parent != base:
            raise UnsafeFolder(f"{folder} does not resolve inside {base}")
        lay_out(folder, layout)
    except (OSError, UnsafeFolder) as exc:
        raise ProvisionFailed(f"could not lay out the agent in {base}: {exc}") from None
    except TalkativeError as exc:  # the skill installer's own refusals (e.g. a symlink in the way)
        raise ProvisionFailed(f"could not lay out the agent in {base}: {exc.message}") from None
    return str(folder)
