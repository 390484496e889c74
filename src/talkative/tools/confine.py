"""Child-side isolation of one tool run with Linux namespaces (the launcher's second half).

The launcher imports this file by name, not through the `talkative` package, and removes it from
`sys.modules` again before the script runs. Import-light: ctypes is loaded by the launcher anyway.
Linux >= 5.12 (mount_setattr). As root it uses its own privileges; as an ordinary user it first
makes a user namespace (unprivileged user namespaces, as on stock Debian). `isolation.py` probes
which of the layers below work here; the launcher is only ever asked for layers that do, and
exits without running the script if one of them fails after all.

Layers (`config["layers"]`):
* "pid": the supervisor, before its fork, `enter_namespaces()`: the worker becomes PID 1 of a new
  PID namespace; when it dies the kernel kills everything left in there. As an ordinary user this
  first makes the user namespace, mapping the sandbox uid inside to the server's uid outside.
* "mount": the worker, in `confine()`: new mount, IPC and UTS namespaces; the root is a
  fresh tmpfs holding only an allow-list (see `layout.py`): the Python runtime, /usr, a synthetic
  /etc, minimal /dev, its own /proc, a private /tmp, and the workspace read-only but for
  `inputs/` and `outputs/`.
  `pivot_root` then detaches the host's tree: nothing else of the host exists for the script.
* "network": a new network namespace with only its own loopback, left down: no route anywhere.
  A run allowed egress (`config["egress"]`: the egress proxy's socket dir, see egress.py) has its
  loopback up, the socket bound at /run/egress, and a relay there as HTTP(S)_PROXY (relay.py).
* "user": as root, the script runs as the sandbox uid/gid with no supplementary groups; either
  way no capabilities are left (bounding set too) and no_new_privs is set.
* "seccomp": a syscall filter as the second wall (see `seccomp.py`).
"""

from __future__ import annotations

import ctypes
import errno
import os

TYPE_CHECKING = False  # see launcher.py
if TYPE_CHECKING:
    from typing import Any

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 1, 2, 4
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
SYS_MOUNT_SETATTR = 442  # Linux >= 5.12; the same number on every architecture
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41}.get(os.uname().machine, 155)
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
CAPABILITY_VERSION_3 = 0x20080522
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
SOCKET = "egress.sock"  # egress.SOCKET_NAME
NAMESPACE_LAYERS = ("pid", "mount", "network")

ROOT_TMPFS = b"size=1m,nr_inodes=4096,mode=0755"
DEV_SHM = b"size=16m,nr_inodes=1024,mode=1777"
DEVICES = ("null", "zero", "full", "random", "urandom")


class IsolationError(OSError):
    """A step of the isolation failed: the script must not run."""


class _MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise IsolationError(f"{what}: {os.strerror(code)} (errno {code})")


def _prctl(option: int, arg: int = 0) -> int:
    zero = ctypes.c_ulong(0)
    return int(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), zero, zero, zero))


def mount(
    source: str | None, target: str, fstype: bytes | None, flags: int, data: bytes | None = None
) -> None:
    raw_source = os.fsencode(source) if source is not None else None
    result = _libc.mount(raw_source, os.fsencode(target), fstype, flags, data)
    _check(result, f"mount {fstype.decode() if fstype else source} on {target}")


def set_attributes(path: str, *, recursive: bool, on: int = 0, off: int = 0) -> None:
    attr = _MountAttr(on, off, 0, 0)
    flags = ctypes.c_uint(AT_RECURSIVE if recursive else 0)
    size = ctypes.c_size_t(ctypes.sizeof(attr))
    raw_path = ctypes.c_char_p(os.fsencode(path))
    result = _libc.syscall(
        ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), raw_path, flags, ctypes.byref(attr), size
    )
    _check(result, f"mount_setattr {path}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _unprivileged(config: dict[str, Any]) -> bool:
    """Whether namespaces need a user namespace of our own (we are not root on the host)."""
    return os.geteuid() != 0 and any(layer in config["layers"] for layer in NAMESPACE_LAYERS)


def enter_namespaces(config: dict[str, Any]) -> None:
    """Supervisor side, before its fork. As an ordinary user: a user namespace in which the
    sandbox uid/gid stand for ours. With "pid": the next fork starts a new PID namespace."""
    if _unprivileged(config):
        uid, gid = os.geteuid(), os.getegid()
        _check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{config['uid']} {uid} 1")
        _write("/proc/self/gid_map", f"{config['gid']} {gid} 1")
    if "pid" in config["layers"]:
        _check(_libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")


def confine(config: dict[str, Any]) -> None:
    """Worker side, after the fork and before the script runs; raises OSError (IsolationError)."""
    layers = config["layers"]
    # Before the pivot: the tools dir (where these files live) is not part of the new root.
    import layout  # type: ignore[import-not-found]  # the sibling files, by name, like this one
    import seccomp  # type: ignore[import-not-found]

    egress = config.get("egress")
    if egress:
        import relay  # type: ignore[import-not-found]

    flags = 0
    if "mount" in layers:  # with System V IPC and the host name: nothing shared with the host
        flags |= CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS
    if "network" in layers:
        flags |= CLONE_NEWNET
    if flags:
        _check(_libc.unshare(flags), f"unshare({flags:#x})")
    if flags & CLONE_NEWUTS:
        _libc.sethostname(b"sandbox", 7)
    if egress and "network" in layers:
        _loopback_up()  # the relay listens there; it is all this namespace has
    if "mount" in layers:
        layout.build_root(config, pid_namespace="pid" in layers)
        os.chdir(config["workspace"])
        os.environ.update(HOME=layout.SCRATCH, TMPDIR=layout.SCRATCH)  # the workspace root is read-only
    _drop_privileges(config)
    if "seccomp" in layers:  # inet sockets only for the relay's loopback, in a namespace of its own
        seccomp.install(network="network" in layers and not egress)
    if egress:  # the egress proxy as HTTP(S)_PROXY on loopback (relay.py); it decides what is reached
        os.environ.update(
            relay.start(os.path.join(layout.EGRESS_DIR if "mount" in layers else egress, SOCKET))
        )


def _loopback_up() -> None:
    """Bring `lo` up in the run's new network namespace (needs CAP_NET_ADMIN there: before the drop)."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _drop_privileges(config: dict[str, Any]) -> None:
    cap = 0
    while _prctl(PR_CAPBSET_DROP, cap) == 0:
        cap += 1
    if cap == 0 and ctypes.get_errno() == errno.EPERM and os.geteuid() != 0 and not _unprivileged(config):
        pass  # an ordinary user without a namespace of its own holds nothing to drop
    elif cap == 0 or ctypes.get_errno() != errno.EINVAL:  # EINVAL: past the last capability
        _check(-1, f"dropping capability {cap}")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)  # EINVAL before Linux 4.3: nothing to clear
    if "user" in config["layers"] and os.geteuid() == 0 and not _unprivileged(config):
        os.setgroups([])
        os.setresgid(config["gid"], config["gid"], config["gid"])
        os.setresuid(config["uid"], config["uid"], config["uid"])  # clears every capability too
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty
    _check(_libc.capset(header, data), "capset")
    if "user" in config["layers"] and os.geteuid() == 0:
        raise IsolationError("still uid 0 after dropping privileges")


def pivot(new_root: str) -> None:
    """Make `new_root` the root and detach the host's tree from this mount namespace."""
    os.chdir(new_root)
    # pivot_root(".", "."): the old root ends up stacked under the new one, then is detached.
    _check(_libc.syscall(ctypes.c_long(SYS_PIVOT_ROOT), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "detaching the host's root")
    os.chdir("/")
