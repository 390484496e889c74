"""Child-side isolation of one tool run with Linux namespaces (the launcher's second half).

The launcher imports this file by name, not through the `talkative` package, and removes it from
`sys.modules` again before the script runs. Import-light: ctypes is loaded by the launcher anyway.
Linux >= 5.12 (mount_setattr), run as root or with CAP_SYS_ADMIN; `isolation.py` probes for it.

* Supervisor, before its fork: `unshare_pids()`. The worker becomes PID 1 of a new PID namespace:
  it sees only the run's processes, and when it dies the kernel kills everything left in there.
* Worker, before the script: `confine(config)` with `{"hide": [dirs], "workspace": dir}`:
  1. private mount (nothing propagates back to the host) and System V IPC namespaces;
  2. an empty tmpfs over each hidden dir (the data dir) and a private one over /tmp and /dev/shm;
     the workspace and the interpreter's directories under them are bind-mounted back, from
     O_PATH descriptors opened before anything was covered (so even the parent of the Python
     install can be hidden: see `keep_paths`);
  3. every mount read-only, nosuid and nodev (no raw disk reads), except the workspace and the
     scratch tmpfs (writable) and a few character devices (/dev/null, ...);
  4. a fresh, read-only /proc: /proc/<server pid>/environ no longer exists;
  5. no capabilities left (bounding set included) and no_new_privs. The script still runs as
     root, but can no longer unmount, remount or mount anything to undo steps 1-4.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys

TYPE_CHECKING = False  # see launcher.py
if TYPE_CHECKING:
    from typing import Any

CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 1, 2, 4
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
SYS_MOUNT_SETATTR = 442  # Linux >= 5.12; the same number on every architecture
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
CAPABILITY_VERSION_3 = 0x20080522

HIDDEN_TMPFS = b"size=256k,nr_inodes=1024,mode=0755"
SCRATCH = {"/tmp": b"size=64m,mode=1777", "/dev/shm": b"size=16m,mode=1777"}  # noqa: S108
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


class IsolationError(OSError):
    """A step of the isolation failed: the script must not run."""


class _MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.unshare.argtypes = [ctypes.c_int]


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise IsolationError(f"{what}: {os.strerror(code)} (errno {code})")


def _prctl(option: int, arg: int = 0) -> int:
    zero = ctypes.c_ulong(0)
    return int(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), zero, zero, zero))


def _mount(
    source: str | None, target: str, fstype: bytes | None, flags: int, data: bytes | None = None
) -> None:
    raw_source = os.fsencode(source) if source is not None else None
    result = _libc.mount(raw_source, os.fsencode(target), fstype, flags, data)
    _check(result, f"mount {fstype.decode() if fstype else source} on {target}")


def _set_attributes(path: str, *, recursive: bool, on: int = 0, off: int = 0) -> None:
    attr = _MountAttr(on, off, 0, 0)
    flags = ctypes.c_uint(AT_RECURSIVE if recursive else 0)
    size = ctypes.c_size_t(ctypes.sizeof(attr))
    raw_path = ctypes.c_char_p(os.fsencode(path))
    result = _libc.syscall(
        ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), raw_path, flags, ctypes.byref(attr), size
    )
    _check(result, f"mount_setattr {path}")


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def unshare_pids() -> None:
    """Supervisor side: the next fork starts a new PID namespace (the worker is its PID 1)."""
    _check(_libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")


def keep_paths(workspace: str) -> list[str]:
    """What must stay visible under a hidden dir: the workspace, the interpreter, its imports."""
    wanted = [os.path.dirname(sys.executable), os.path.dirname(os.path.realpath(sys.executable))]
    wanted += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    wanted += [entry for entry in sys.path[1:] if os.path.isabs(entry)]
    return sorted({workspace, *(os.path.realpath(path) for path in wanted if os.path.isdir(path))})


def plan_covers(hide: list[str], keeps: list[str]) -> list[tuple[str, bytes, bool]]:
    """(dir, tmpfs options, writable) to cover, parents first. Covering a keep itself would
    hide nothing (it is mounted back): refused for a hidden dir, skipped for a scratch one."""
    for path in hide:
        if path in keeps:
            raise IsolationError(f"cannot hide {path}: the run needs it")
    covers = [(path, HIDDEN_TMPFS, False) for path in hide]
    covers += [(path, options, True) for path, options in SCRATCH.items() if path not in keeps]
    return sorted(covers)


def _cover_and_restore(hide: list[str], workspace: str) -> list[str]:
    """Step 2; returns the writable mounts (the workspace, the scratch tmpfs)."""
    keeps = keep_paths(workspace)
    handles = {path: os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for path in keeps}
    writable, restored = [], set()
    try:
        for target, options, scratch in plan_covers(hide, keeps):
            if not os.path.isdir(target):  # nothing to hide there, or under a cover already
                continue
            _mount("tmpfs", target, b"tmpfs", MS_NOSUID | MS_NODEV, options)
            if scratch:
                writable.append(target)
            for keep, handle in handles.items():  # sorted: parents first (a child again is harmless)
                if _inside(keep, target):
                    os.makedirs(keep, exist_ok=True)
                    _mount(f"/proc/self/fd/{handle}", keep, None, MS_BIND | MS_REC)
                    restored.add(keep)
        if workspace not in restored:  # its own mount, so that it alone can be made writable
            _mount(f"/proc/self/fd/{handles[workspace]}", workspace, None, MS_BIND | MS_REC)
    finally:
        for handle in handles.values():
            os.close(handle)
    return [*writable, workspace]


def _drop_privileges() -> None:
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)  # EINVAL before Linux 4.3: nothing to clear
    cap = 0
    while _prctl(PR_CAPBSET_DROP, cap) == 0:
        cap += 1
    if cap == 0 or ctypes.get_errno() != errno.EINVAL:  # EINVAL: past the last capability
        _check(-1, f"dropping capability {cap}")
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty
    _check(_libc.capset(header, data), "capset")


def confine(config: dict[str, Any]) -> None:
    """Worker side, after the fork and before the script runs; raises OSError (IsolationError)."""
    workspace = os.path.realpath(config["workspace"])
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare(CLONE_NEWNS | CLONE_NEWIPC)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    writable = _cover_and_restore([os.path.realpath(path) for path in config["hide"]], workspace)
    devices = [device for device in DEVICES if os.path.exists(device)]
    for device in devices:
        _mount(device, device, None, MS_BIND)
    _set_attributes("/", recursive=True, on=MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
    for path in writable:
        _set_attributes(path, recursive=False, off=MOUNT_ATTR_RDONLY)
    for device in devices:
        _set_attributes(device, recursive=False, off=MOUNT_ATTR_NODEV)
    _mount("proc", "/proc", b"proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(workspace)  # the old working directory is on the covered, read-only mount
    _drop_privileges()
