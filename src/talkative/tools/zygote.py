"""The fork server of the tool runner: one warm interpreter that forks a launcher per tool call.

    python -E -s -S -B zygote.py <config json>      (config "fd": a SOCK_SEQPACKET socket to the server)

Starting Python and importing what every skill imports (json, re, argparse, the report module,
ctypes for the confinement) costs more than the rest of a short skill run. This process pays it
once: for each request it forks, and the child becomes exactly what `launcher.py` would have been
(own session, the request's stdio, working directory and environment, then `launcher.main`).

Protocol (one JSON object per datagram; the request carries stdin, stdout, stderr as SCM_RIGHTS):
    server -> zygote  {"id": n, "argv": [<launcher config json>, <script>, *args], "cwd": ..., "env": {...}}
    zygote -> server  {"id": n, "pid": pid}        once forked (before any exit of that pid)
    zygote -> server  {"pid": pid, "status": s}    when it exits (a raw wait status)
The zygote dies with the server (parent-death signal, and end of file on the socket); the
launchers it forked die with it in turn (theirs is set relative to the zygote).

Import-light and stdlib-only at start, like launcher.py; it must not import the server's modules.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import socket
import sys
import traceback

TYPE_CHECKING = False  # see launcher.py
if TYPE_CHECKING:
    from typing import Any

MAX_REQUEST = 1 << 20
FD_COUNT = 3  # stdin, stdout, stderr
PR_SET_PDEATHSIG = 1
EXIT_SETUP_FAILED = 125
# What skills commonly import, loaded once here instead of in every run (argparse's help
# formatter imports shutil, and its gettext imports locale, at a parser's first use; the skill
# helper's once() imports fcntl and hashlib when it is used).
PRELOAD = (
    "argparse", "csv", "datetime", "decimal", "fcntl", "hashlib", "locale", "re", "shutil",
    "talkative.skills.report",
)  # fmt: skip


def _warm_argparse() -> None:
    """Every skill parses its arguments: one throwaway parser compiles argparse's regular
    expressions into `re`'s cache here, once, rather than in every run."""
    import argparse

    parser = argparse.ArgumentParser(prog="warm-up")
    parser.add_argument("--flag", help="warm-up")
    parser.parse_args(["--flag", "x"])
    parser.format_help()


def _die_with(server_pid: int) -> None:
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != server_pid:  # the server died before the signal was armed
        os._exit(0)


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    try:  # noqa: SIM105 - contextlib is one import more at start-up
        sock.send(json.dumps(message).encode())
    except OSError:  # the server is gone: the end-of-file on the next read ends this process
        pass


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"pid": pid, "status": status})


def _become_launcher(
    sock: socket.socket, wakeup: tuple[int, int], fds: list[int], request: dict[str, Any]
) -> None:
    """In the forked child: turn into the launcher of this request; never returns."""
    code = EXIT_SETUP_FAILED
    try:
        os.setsid()  # first: the server moves our session leader into the run's cgroup
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sock.close()
        for fd in wakeup:
            os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        config = json.loads(request["argv"][0])
        config["server_pid"] = os.getppid()  # the launcher watches its parent: this zygote
        # Returns only in the worker, after the script ran to its end (launcher._run_script).
        sys.modules["launcher"].main(["launcher.py", json.dumps(config), *request["argv"][1:]])
        code = 0
    except SystemExit as exc:  # the script's own exit, as the interpreter would report it
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        # What interpreter exit would do: the script's atexit hooks, then flushed stdio.
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:  # noqa: SIM105
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def serve(sock: socket.socket) -> None:
    wakeup = os.pipe()
    for fd in wakeup:
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wakeup[1])
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd is written
    while True:
        readable, _, _ = select.select([sock.fileno(), wakeup[0]], [], [])
        if wakeup[0] in readable:
            try:  # noqa: SIM105
                os.read(wakeup[0], 512)
            except BlockingIOError:
                pass
            _reap(sock)
        if sock.fileno() not in readable:
            continue
        data, ancillary, _flags, _addr = sock.recvmsg(MAX_REQUEST, socket.CMSG_SPACE(FD_COUNT * 4))
        if not data:
            return  # the server closed its end
        fds: list[int] = []
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += list(memoryview(payload).cast("i"))
        request = json.loads(data)
        if len(fds) != FD_COUNT:
            for fd in fds:
                os.close(fd)
            _send(sock, {"id": request.get("id"), "error": "expected stdin, stdout and stderr"})
            continue
        try:
            pid = os.fork()
        except OSError as exc:
            pid = -1
            _send(sock, {"id": request["id"], "error": f"fork failed: {exc}"})
        if pid == 0:
            _become_launcher(sock, wakeup, fds, request)
        for fd in fds:
            os.close(fd)
        if pid > 0:
            _send(sock, {"id": request["id"], "pid": pid})


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    sys.path[1:1] = config.get("path") or []
    _die_with(int(config["server_pid"]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C in the server's terminal is the server's
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            continue
    _warm_argparse()
    # The launcher (sibling file, imported by name as it imports confine) and the confinement,
    # ctypes included: loaded before the first fork, like the preloads.
    __import__("launcher")
    __import__("confine")
    try:  # noqa: SIM105 - compiled once here; a run without it compiles its own (or fails closed)
        __import__("seccomp").prepare()
    except (ImportError, OSError):
        pass

    sock = socket.socket(fileno=int(config["fd"]))
    serve(sock)


if __name__ == "__main__":
    main(sys.argv)
