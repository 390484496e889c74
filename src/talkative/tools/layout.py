"""The filesystem a sandboxed run sees: an allow-list on a fresh tmpfs root (see confine.py).

Built in the worker's new mount namespace, before `pivot_root`:
  /usr (and the /bin, /lib... links to it), the Python runtime and the import path entries the
  server names (`config["binds"]`: site-packages and the skill helper's files, not the source
  tree), all read-only; a synthetic /etc (passwd and group naming only root and the sandbox uid,
  hosts, the dynamic linker's cache); /dev with null, zero, full, random, urandom and a private
  /dev/shm; a private, sized /tmp; its own /proc; the workspace read-only, with its `inputs/`
  and `outputs/` writable. Every source is opened (O_PATH) before anything is covered, so a
  workspace under /tmp or a runtime under a 0700 dir (/root/.pyenv) can still be bound: the
  directories made on the way are this tmpfs's own, 0755.
"""

from __future__ import annotations

import os
import sys

from confine import (  # type: ignore[import-not-found]  # the sibling file, by name (launcher.py)
    DEV_SHM,
    DEVICES,
    MOUNT_ATTR_NODEV,
    MOUNT_ATTR_NOSUID,
    MOUNT_ATTR_RDONLY,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    ROOT_TMPFS,
    IsolationError,
    mount,
    pivot,
    set_attributes,
)

TYPE_CHECKING = False  # see launcher.py
if TYPE_CHECKING:
    from typing import Any

NEW_ROOT = "/tmp"  # noqa: S108 - only a mount point in the run's own mount namespace
EGRESS_DIR = "/run/egress"  # the egress proxy's socket dir, for a run allowed the network (egress.py)
SCRATCH, SHM = "/tmp", "/dev/shm"  # noqa: S108 - the run's own tmpfs mounts
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf")
TOP_LINKS = ("bin", "lib", "lib32", "lib64", "libx32", "sbin")


def runtime_paths() -> list[str]:
    """The running interpreter's own prefixes (it may not be the server's: tests run a system one)."""
    wanted = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, "/usr"]
    wanted += [os.path.dirname(sys.executable), os.path.dirname(os.path.realpath(sys.executable))]
    return [os.path.realpath(path) for path in wanted if os.path.isdir(path)]


def _etc(uid: int, gid: int) -> dict[str, str]:
    name = "nobody" if uid == 65534 else "sandbox"
    group = "nogroup" if gid == 65534 else "sandbox"
    return {
        "passwd": (
            "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
            f"{name}:x:{uid}:{gid}::{SCRATCH}:/usr/sbin/nologin\n"
        ),
        "group": f"root:x:0:\n{group}:x:{gid}:\n",
        "hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
        # The workspace belongs to the server's uid, not the script's: git's ownership check would
        # refuse it (`git-watcher` reads the workspace's repository). Only that tree is here anyway.
        "gitconfig": "[safe]\n\tdirectory = *\n",
    }


def _open(path: str, *, directory: bool = False) -> int | None:
    flags = os.O_PATH | os.O_CLOEXEC | (os.O_DIRECTORY | os.O_NOFOLLOW if directory else 0)
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        return None


def _bind(handle: int, target: str, *, directory: bool) -> None:
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    if directory:
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif not os.path.exists(target):
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    mount(f"/proc/self/fd/{handle}", target, None, MS_BIND | MS_REC)


def _sources(config: dict[str, Any]) -> list[tuple[str, bool]]:
    """(path, is a directory) to bind read-only, parents first, none inside another: binding
    into an already bound host dir would create its mount point on the host."""
    found: dict[str, bool] = {}
    for path in [*runtime_paths(), *config["binds"]]:
        real = os.path.realpath(path)
        if os.path.exists(real):
            found[real] = os.path.isdir(real)
    for name in TOP_LINKS:
        if not os.path.islink(f"/{name}") and os.path.isdir(f"/{name}"):
            found[f"/{name}"] = True
    for name in ETC_FILES:
        if os.path.isfile(name) and not os.path.islink(name):
            found[name] = False
    chosen: list[tuple[str, bool]] = []
    for path, directory in sorted(found.items(), key=lambda item: item[0].split("/")):
        if not any(is_directory and _inside(path, parent) for parent, is_directory in chosen):
            chosen.append((path, directory))
    return chosen


def _inside(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip("/") + "/")


def build_root(config: dict[str, Any], *, pid_namespace: bool) -> None:
    """Build the allow-listed tree and pivot into it; the host's tree is gone afterwards."""
    workspace, writable = config["workspace"], config["writable"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    links = {name: os.readlink(f"/{name}") for name in TOP_LINKS if os.path.islink(f"/{name}")}
    sources = _sources(config)
    if any(directory and _inside(workspace, path) for path, directory in sources) or any(
        _inside(workspace, f"/{name}") for name in links
    ):  # its mount point would be made in a host dir bound read-only (or through a link to one)
        raise IsolationError(f"the workspace {workspace} lies inside the runtime's directories")
    binds = [(path, directory, _open(path)) for path, directory in sources]
    places = [(path, _open(path, directory=True)) for path in [workspace, *writable]]
    devices = [(name, _open(f"/dev/{name}")) for name in DEVICES]
    egress = _open(config["egress"], directory=True) if config.get("egress") else None
    if any(handle is None for _path, handle in places):
        raise IsolationError(f"missing workspace dir among {[workspace, *writable]}")
    os.umask(0o022)
    root = NEW_ROOT
    mount("tmpfs", root, b"tmpfs", MS_NOSUID | MS_NODEV, ROOT_TMPFS)
    for name, target in links.items():
        os.symlink(target, f"{root}/{name}")
    os.mkdir(f"{root}/etc", 0o755)
    for name, text in _etc(config["uid"], config["gid"]).items():
        with open(f"{root}/etc/{name}", "w") as etc_file:
            etc_file.write(text)
    for name in ETC_FILES:
        if os.path.islink(name):  # /etc/localtime -> /usr/share/zoneinfo/...
            os.symlink(os.readlink(name), root + name)
    os.mkdir(f"{root}/dev", 0o755)
    for name, handle in devices:
        if handle is not None:
            _bind(handle, f"{root}/dev/{name}", directory=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):  # fmt: skip
        os.symlink(target, f"{root}/dev/{name}")
    os.mkdir(root + SHM)
    mount("tmpfs", root + SHM, b"tmpfs", MS_NOSUID | MS_NODEV, DEV_SHM)
    os.mkdir(root + SCRATCH)
    scratch = f"size={int(config['tmp_bytes'])},nr_inodes=4096,mode=1777".encode()
    mount("tmpfs", root + SCRATCH, b"tmpfs", MS_NOSUID | MS_NODEV, scratch)
    # Parents first: a runtime under /tmp lands on the scratch tmpfs, the workspace on top of all.
    for path, directory, handle in binds:
        if handle is not None:
            _bind(handle, root + path, directory=directory)
    for path, handle in places:
        assert handle is not None
        _bind(handle, root + path, directory=True)
    if egress is not None:
        _bind(egress, root + EGRESS_DIR, directory=True)
        os.close(egress)
    os.mkdir(f"{root}/proc", 0o555)
    if pid_namespace:  # a fresh /proc shows this run's processes only
        mount("proc", f"{root}/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for _path, _directory, handle in binds:
        if handle is not None:
            os.close(handle)
    for _path, handle in [*places, *devices]:
        if handle is not None:
            os.close(handle)
    set_attributes(root, recursive=True, on=MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
    for path in [root + SCRATCH, root + SHM, *(root + path for path in writable)]:
        set_attributes(path, recursive=False, off=MOUNT_ATTR_RDONLY)
    for name, handle in devices:
        if handle is not None:
            set_attributes(f"{root}/dev/{name}", recursive=False, off=MOUNT_ATTR_NODEV)
    pivot(root)
