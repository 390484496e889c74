"""Child-side half of the tool runner; the only Python started per tool call.

    python -E -s -B launcher.py <config json> <script> [args...]

It applies the sandbox to itself (cgroup, rlimits) instead of using `preexec_fn`, which is unsafe
in a threaded server. It then forks once: the worker runs the script in-process (like runpy); this
process stays behind as a tiny supervisor. As a child subreaper it inherits every orphan the script
leaves, so it can kill and *reap* the whole tree before it exits (this machine's init reaps orphans
only seconds later, and a script's `setsid()` would escape a plain group kill). SIGTERM from the
server means "stop now". It joins the run's pids cgroup itself, first thing (see _join_cage).

With `isolate` in the config, the worker is PID 1 of a new PID namespace and confines itself (see
`confine.py`: its own root filesystem, no network, an unprivileged uid, a seccomp filter) before the
script runs, or exits without running it. As PID 1 it ignores signals it
has no handler for (SIGXCPU, a SIGTERM to itself: a CPU limit ends at the hard limit's SIGKILL);
SIGKILL from the supervisor, outside the namespace, always works.

Import-light on purpose (startup latency is the cost of every tool call), and it must not import
the `talkative` package. The server imports `list_processes` from here so both sides agree.
"""

from __future__ import annotations

import _frozen_importlib_external as bootstrap  # importlib's own; loaded at start-up already
import _imp
import io
import json
import marshal
import os
import resource
import signal
import sys
import time

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs each run ~4 ms
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import CodeType, FrameType
    from typing import Any, NoReturn

    from talkative.tools import confine

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
EXIT_SETUP_FAILED = 125
SETUP_FAILURE_PREFIX = b"talkative launcher: "
REAP_DEADLINE_S = 5.0
# PEP 552 bytecode cache header: magic, flags (hash-based, checked against the source), source hash.
_CHECKED_HASH_HEADER = bootstrap.MAGIC_NUMBER + (0b11).to_bytes(4, "little")
_HASH_KEY = int.from_bytes(bootstrap.MAGIC_NUMBER, "little")  # importlib.util.source_hash's key

_worker: int | None = None
_stop_requested = False


def list_processes() -> Iterator[tuple[int, int, int, int, int]]:
    """(pid, ppid, pgrp, session, threads) of every live process, from /proc."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                raw = handle.read()
        except OSError:  # exited while we looked
            continue
        # comm (field 2) may contain spaces and parentheses; the fields after its last ')' do not.
        fields = raw[raw.rfind(b")") + 2 :].split()
        yield int(name), int(fields[1]), int(fields[2]), int(fields[3]), int(fields[17])


def _threads_of_uid(uid: int) -> int:
    total = 0
    for pid, _ppid, _pgrp, _session, threads in list_processes():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                total += threads
        except OSError:
            continue
    return total


def _join_cage(cage: str | None) -> None:
    """Enter the run's pids cgroup, before anything is forked (children inherit it).

    With cgroup v1, "0" written to `tasks` moves just the writing thread, which is all a launcher
    is at this point. A pid written to `cgroup.procs` moves a whole thread group instead, and the
    kernel first waits for an RCU grace period for that (~10 ms here, on every run).
    """
    if not cage:
        return
    tasks = os.path.join(cage, "tasks")
    if os.path.exists(tasks):
        with open(tasks, "w") as handle:
            handle.write("0")
        return
    with open(os.path.join(cage, "cgroup.procs"), "w") as handle:
        handle.write(str(os.getpid()))


def _apply_limits(config: dict[str, Any]) -> None:
    nproc = int(config["max_processes"])
    isolate = config.get("isolate") or {}
    # The script's uid: the sandbox's when root drops to it (see confine.py), else ours.
    uid = isolate["uid"] if os.getuid() == 0 and "user" in isolate.get("layers", ()) else os.getuid()
    if uid != 0:
        # RLIMIT_NPROC counts every thread of the uid, not of this run: leave room for what the
        # uid already runs, or the worker could not even be forked on a busy machine.
        nproc += _threads_of_uid(uid)
    wanted = {
        resource.RLIMIT_CPU: (int(config["cpu_s"]), int(config["cpu_s"]) + 1),  # SIGXCPU, then KILL
        resource.RLIMIT_AS: (int(config["memory_bytes"]),) * 2,
        resource.RLIMIT_FSIZE: (int(config["file_size_bytes"]),) * 2,
        resource.RLIMIT_NOFILE: (int(config["open_files"]),) * 2,
        resource.RLIMIT_NPROC: (nproc, nproc),
    }
    for limit, (soft, hard) in wanted.items():
        current_hard = resource.getrlimit(limit)[1]
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
        resource.setrlimit(limit, (min(soft, hard), hard))


def _become_subreaper(server_pid: int | None) -> bool:
    """Also: SIGTERM (stop the run) when the server dies, so no run outlives it."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if server_pid:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):  # not Linux: the server's group kill is all we have
        return False


def _kill(pid: int, *, group: bool = False) -> None:
    try:
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)
    except OSError:  # already gone
        return


def _set_group(pid: int) -> None:
    try:
        os.setpgid(pid, 0)
    except OSError:  # the other side won the race
        return


def _kill_worker() -> None:
    if _worker is None:
        return
    _kill(_worker, group=True)  # its group, and the pid itself in case setpgid has not run yet
    _kill(_worker)


def _on_stop(_signum: int, _frame: FrameType | None) -> None:
    global _stop_requested
    _stop_requested = True
    _kill_worker()


def _wait_for(pid: int) -> int:
    while True:
        reaped, status = os.waitpid(-1, 0)
        if reaped == pid:
            return status


def _reap_descendants() -> None:
    """Kill and reap everything the script left behind, however it regrouped itself."""
    me = os.getpid()
    deadline = time.monotonic() + REAP_DEADLINE_S
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG)[0]:
                continue
        except ChildProcessError:
            return  # as subreaper, no children left means no descendants left
        for pid, ppid, _pgrp, session, _threads in list_processes():
            if pid != me and me in (ppid, session):
                _kill(pid)
        time.sleep(0.002)


def _exit_like(status: int) -> None:
    """Exit the way the worker did, so the server sees the script's own status."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            if signum != signal.SIGKILL:  # whose handler cannot be set, nor needs to be
                signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        except (OSError, ValueError):
            pass
        os._exit(128 + signum)
    os._exit(os.waitstatus_to_exitcode(status))


def _run_script(script: str, args: list[str]) -> None:
    """What `runpy.run_path(script, run_name="__main__")` does for a .py file, without importing
    runpy and pkgutil (~4 ms a run): a fresh `__main__` module runs the compiled file."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(script)
    code = _script_code(script)
    module = type(sys)("__main__")
    module.__dict__.update(__file__=script, __cached__=None, __package__="", __builtins__=__builtins__)
    sys.modules["__main__"] = module  # the launcher's own globals live on in its functions
    exec(code, module.__dict__)  # noqa: S102 - running the script is the point


def _script_code(script: str) -> CodeType:
    """The script compiled, or read from a bytecode cache beside it whose source hash matches.

    Compiling a skill of a few hundred lines took a fifth of a short run, in every run: each one
    starts from a fresh copy of the fork server. The cache is Python's own format (`__pycache__`,
    PEP 552, checked hashes: an edit is seen whatever its timestamp), written by the run itself
    and so only where the script's own run could write anyway (its workspace); a cache that is
    missing, stale, unreadable or unwritable just means compiling as before.
    """
    with io.open_code(script) as handle:
        source = handle.read()
    header = _CHECKED_HASH_HEADER + _imp.source_hash(_HASH_KEY, source)
    cache = bootstrap.cache_from_source(script)
    try:
        with open(cache, "rb") as handle:
            cached = handle.read()
        if cached.startswith(header):
            # The run's own workspace, so no more trusted than the script itself is.
            code = marshal.loads(memoryview(cached)[len(header) :])  # noqa: S302
            if isinstance(code, type(_script_code.__code__)):
                return code
    except (OSError, ValueError, EOFError, TypeError):  # none yet, or not a usable one
        pass
    code = compile(source, script, "exec", dont_inherit=True)  # not our __future__s
    partial = f"{cache}.{os.urandom(6).hex()}.tmp"
    try:
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with open(partial, "wb") as handle:
            handle.write(header + marshal.dumps(code))
        os.replace(partial, cache)  # whole or not at all, whichever run wins
    except OSError:
        try:  # noqa: SIM105 - contextlib is one import more per run
            os.unlink(partial)
        except OSError:
            pass
    return code


def _setup_failed(message: str) -> NoReturn:
    sys.stderr.buffer.write(SETUP_FAILURE_PREFIX + message.encode() + b"\n")
    sys.stderr.flush()
    os._exit(EXIT_SETUP_FAILED)


def _enter_namespaces(isolate: dict[str, Any]) -> None:
    """Only isolated runs pay for importing `confine.py`: the sibling file, not the package. As an
    ordinary user this makes the run's user namespace; with "pid" the worker forked next is PID 1
    of a new PID namespace."""
    global confine
    try:
        confine = __import__("confine")
        confine.enter_namespaces(isolate)
    except (ImportError, OSError, AttributeError) as exc:  # AttributeError: libc without unshare
        _setup_failed(f"isolation failed: {exc}")


def _confine(isolate: dict[str, Any]) -> None:
    """The worker's half; the script must not find the sandbox's modules (nor run unconfined)."""
    try:
        confine.confine(isolate)
    except (OSError, KeyError, TypeError, ImportError) as exc:
        _setup_failed(f"isolation failed: {exc!r}")
    finally:
        for name in ("confine", "layout", "seccomp", "relay"):
            sys.modules.pop(name, None)


def main(argv: list[str]) -> None:
    global _worker
    config, script, args = json.loads(argv[1]), argv[2], argv[3:]
    sys.path[1:1] = config.get("path") or []  # started with -S: the server says where packages are
    isolate = config.get("isolate")
    try:
        _join_cage(config.get("cage"))  # first, so nothing below can fork outside the cage
        _apply_limits(config)
    except (OSError, ValueError) as exc:
        _setup_failed(f"sandbox setup failed: {exc}")
    if isolate:
        _enter_namespaces(isolate)
    subreaper = _become_subreaper(config.get("server_pid"))
    signal.signal(signal.SIGTERM, _on_stop)
    if config.get("server_pid") not in (None, os.getppid()):
        _setup_failed("the server went away")  # before the death signal was set up
    try:
        pid = os.fork()
    except OSError as exc:
        _setup_failed(f"fork failed: {exc}")
    if pid == 0:
        _set_group(0)
        if isolate:
            _confine(isolate)
        _run_script(script, args)
        return  # normal interpreter exit: flushes stdio, runs the script's atexit hooks
    _set_group(pid)  # in both processes, so a stop arriving right now already finds the group
    _worker = pid
    if _stop_requested:
        _kill_worker()
    status = _wait_for(pid)
    _worker = None  # reaped: its pid may be reused, a late SIGTERM must not kill that
    if subreaper:
        _reap_descendants()
    _exit_like(status)


if __name__ == "__main__":
    main(sys.argv)
