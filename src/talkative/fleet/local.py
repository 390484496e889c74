"""Provisioning onto this machine: the agent's folder under the node's base path, inside the tenant's
own folder of the local root (`<root>/<tenant>/`), so no tenant's node can reach another tenant's files."""

from __future__ import annotations

from pathlib import Path

from talkative.agents.workspace import tenant_folder
from talkative.errors import TalkativeError
from talkative.fleet.exceptions import ProvisionFailed, UnsafeBasePath
from talkative.fleet.workspace import Layout, UnsafeFolder, lay_out


def tenant_root(root: Path, tenant_id: str) -> Path:
    """The tenant's folder of the local root (not resolved: see base_folder)."""
    return root / tenant_folder(tenant_id)


def base_folder(root: Path, tenant_id: str, base_path: str | None) -> Path:
    """The node's folder, resolved (symlinks and `..` included); refused unless it is inside the
    tenant's folder of `root` (which is the default)."""
    top = tenant_root(root.resolve(), tenant_id)
    # The tenant's folder itself is resolved too: a symlink standing in for it counts as outside.
    base = Path(base_path).resolve() if base_path else top.resolve()
    if top.resolve() != top or not base.is_relative_to(top):
        raise UnsafeBasePath(
            f"base path {base_path or top} is outside the tenant's folder {top} of the local fleet root "
            "(TALKATIVE_FLEET_LOCAL_ROOT); leave base_path out or choose a folder inside it"
        )
    return base


def provision_local(root: Path, base_path: str | None, layout: Layout) -> str:
    """Lays the agent out in `<base>/<agent_id>/` and returns that folder; blocking (run in a thread)."""
    base = base_folder(root, layout.tenant_id, base_path)
    try:
        base.mkdir(parents=True, exist_ok=True)
        # Checked again once it exists: a symlink created meanwhile must not lead outside the folder.
        base = base_folder(root, layout.tenant_id, str(base))
        folder = base / layout.agent_id
        if folder.resolve().parent != base:
            raise UnsafeFolder(f"{folder} does not resolve inside {base}")
        lay_out(folder, layout)
    except (OSError, UnsafeFolder) as exc:
        raise ProvisionFailed(f"could not lay out the agent in {base}: {exc}") from None
    except TalkativeError as exc:  # the skill installer's own refusals (e.g. a symlink in the way)
        raise ProvisionFailed(f"could not lay out the agent in {base}: {exc.message}") from None
    return str(folder)
