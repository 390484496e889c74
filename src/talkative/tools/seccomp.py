"""The sandbox's second wall: a seccomp filter, built with libseccomp through ctypes.

Loaded by the worker (confine.py) last, after no_new_privs, just before the script runs. Denied
calls fail with EPERM (the script gets a clear "Operation not permitted", it is not killed):
debugging other processes, (un)mounting and changing root, BPF, the kernel keyring, new
namespaces (unshare, setns, clone with a namespace flag; clone3, whose flags a filter cannot
read, answers ENOSYS so that libc falls back to clone), perf events, kernel modules and kexec,
io_uring (whose operations a filter does not see), and, when the run has no network, every
socket family but AF_UNIX.

The filter is compiled to BPF once, in the fork server (`prepare()`), and each run only hands
that program to the kernel; without a fork server a run compiles it itself. Import-light like the
launcher; Debian's package is libseccomp2.
"""

from __future__ import annotations

import ctypes
import errno
import os

LIBRARY = "libseccomp.so.2"
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE, SCMP_CMP_MASKED_EQ = 1, 7
AF_UNIX = 1
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount",
    "fsconfig", "fspick", "mount_setattr",
    "bpf", "keyctl", "add_key", "request_key", "unshare", "setns", "perf_event_open",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "userfaultfd", "open_by_handle_at",
    "iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "lookup_dcookie",
)  # fmt: skip
NAMESPACE_FLAGS = (
    0x00020000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
    0x00000080,
)


class SeccompError(OSError):
    """The filter could not be built or loaded: the script must not run."""


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_programs: dict[bool, bytes] = {}  # network denied or not -> the compiled BPF program


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]  # fmt: skip


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO


def load_library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(LIBRARY, use_errno=True)
    except OSError as exc:
        raise SeccompError(f"{LIBRARY} cannot be loaded ({exc}); install libseccomp2") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def _rule(lib: ctypes.CDLL, ctx: int, action: int, name: str, *conditions: tuple[int, int, int, int]) -> None:
    number = lib.seccomp_syscall_resolve_name(name.encode())
    if number < 0:  # not a call this architecture has
        return
    array = (_ArgCmp * max(len(conditions), 1))(*(_ArgCmp(*condition) for condition in conditions))
    result = lib.seccomp_rule_add_array(ctx, action, number, len(conditions), array)
    if result < 0:
        raise SeccompError(f"seccomp rule for {name}: errno {-result}")


def compile_filter(*, network: bool) -> bytes:
    """The filter as a BPF program (an array of `struct sock_filter`)."""
    lib = load_library()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise SeccompError("seccomp_init failed")
    deny = _errno_action(errno.EPERM)
    read_end, write_end = os.pipe()
    try:
        for name in DENIED:
            _rule(lib, ctx, deny, name)
        for flag in NAMESPACE_FLAGS:
            _rule(lib, ctx, deny, "clone", (0, SCMP_CMP_MASKED_EQ, flag, flag))
        _rule(lib, ctx, _errno_action(errno.ENOSYS), "clone3")
        if network:
            _rule(lib, ctx, deny, "socket", (0, SCMP_CMP_NE, AF_UNIX, 0))
        result = lib.seccomp_export_bpf(ctx, write_end)
        if result < 0:
            raise SeccompError(f"seccomp_export_bpf: {errno.errorcode.get(-result, -result)}")
        os.close(write_end)
        write_end = -1
        chunks = []
        while chunk := os.read(read_end, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        lib.seccomp_release(ctx)
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def prepare() -> None:
    """In the fork server: compile both programs once, for every run it forks."""
    for network in (True, False):
        _programs[network] = compile_filter(network=network)


def install(*, network: bool) -> None:
    """`network`: the run has its own network namespace, so inet sockets are denied too.
    Needs no_new_privs (or CAP_SYS_ADMIN); applies to this thread and everything it starts."""
    program = _programs.get(network) or compile_filter(network=network)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    zero = ctypes.c_ulong(0)
    result = libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog), zero, zero)
    if result != 0:
        raise SeccompError(f"loading the seccomp filter: {os.strerror(ctypes.get_errno())}")
